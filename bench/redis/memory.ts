/**
 * Redis memory per job, Errand against BullMQ: each library enqueues the same no-op jobs
 * (one number argument) under a fresh prefix of its own, then drains them.
 *
 * ```
 * npx tsc -b bench && node bench/dist/redis/memory.js [--jobs 100000] [--libraries errand,bullmq] [--concurrency 50]
 * node bench/dist/redis/memory.js --libraries errand --variant concurrency   # Errand's job class of a bench/flow variant
 * ```
 *
 * `--variant` (plain, unique, concurrency or rate; Errand only) takes bench/flow's job class
 * of that name (its flow settings over 1,000 keys, `ERRAND_BENCH_FLOW_KEYS`): the flow keys
 * (locks, slots, rate windows) are under the prefix too, so they are counted.
 *
 * Two measures per job, after the enqueue (jobs queued) and after the drain (what each keeps
 * of finished jobs; Errand keeps them for `status()`, BullMQ its last 1,000):
 *
 * - `MEMORY USAGE` summed over the library's keys (SCAN of its prefix): exact for its keys,
 *   the top-level key's name and dict entry included.
 * - the growth of `INFO memory used_memory` since before the enqueue: what the server really
 *   allocated (hash tables, allocator rounding), but the server is shared, so other clients'
 *   writes land in it too; compare it with the first measure, not alone.
 *
 * Never flushes: it deletes exactly its prefixes' keys at the end (`store.ts`).
 */
import { ERRAND_VARIANTS, openFlowLibrary, type ErrandVariant } from "../flow/libraries.js";
import { openLibrary, type LibraryName } from "./libraries.js";
import { connect, deleteKeys, freshPrefix, info, prefixMemory, REDIS_URL } from "./store.js";

interface Measure {
  usageBytesPerJob: number;
  usedMemoryBytesPerJob: number;
  keys: number;
}

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = process.argv[index + 1];
  if (value === undefined) throw new Error(`--${name} needs a value`);
  return value;
}

const known = new Set(["--jobs", "--libraries", "--concurrency", "--variant"]);
for (let i = 2; i < process.argv.length; i += 2) {
  if (!known.has(process.argv[i]!)) throw new Error(`unknown option ${process.argv[i]} (known: ${[...known].join(", ")})`);
}
const JOBS = Number(option("jobs", "100000"));
const CONCURRENCY = Number(option("concurrency", "50"));
const LIBRARIES = option("libraries", "errand,bullmq").split(",") as LibraryName[];
if (!Number.isInteger(JOBS) || JOBS <= 0) throw new Error(`--jobs must be a positive integer, got ${JOBS}`);
const VARIANT = option("variant", "") as ErrandVariant | "";
if (VARIANT && !ERRAND_VARIANTS.includes(VARIANT)) throw new Error(`--variant must be one of ${ERRAND_VARIANTS.join(", ")}, got ${VARIANT}`);
if (VARIANT && LIBRARIES.some((name) => name !== "errand")) throw new Error("--variant applies to errand only: add --libraries errand");

const observer = connect();

async function usedMemory(): Promise<number> {
  return Number((await info(observer, "memory")).get("used_memory"));
}

async function measure(prefix: string, jobs: number, before: number): Promise<Measure> {
  const { keys, bytes } = await prefixMemory(observer, prefix);
  return { usageBytesPerJob: Math.round(bytes / jobs), usedMemoryBytesPerJob: Math.round(((await usedMemory()) - before) / jobs), keys };
}

async function waitUntil(check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not drained within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function run(name: LibraryName): Promise<{ queued: Measure; drained: Measure }> {
  const prefix = freshPrefix(name);
  const library = VARIANT
    ? await openFlowLibrary("redis", VARIANT, { redisUrl: REDIS_URL, databaseUrl: "" }, prefix).then((flow) => ({ ...flow, unfinished: () => flow.unfinished() }))
    : await openLibrary(name, REDIS_URL, prefix);
  try {
    const before = await usedMemory();
    for (let from = 0; from < JOBS; from += 10_000) await library.enqueueBulk(from, Math.min(10_000, JOBS - from));
    const queued = await measure(prefix, JOBS, before);
    let started = 0;
    await library.startWorkers(CONCURRENCY, () => void started++);
    await waitUntil(async () => started >= JOBS && !(await library.unfinished(observer)), 600_000);
    await library.stopWorkers();
    const drained = await measure(prefix, JOBS, before);
    return { queued, drained };
  } finally {
    await library.close();
    await deleteKeys(observer, prefix);
  }
}

const results: Record<string, { queued: Measure; drained: Measure }> = {};
for (const name of LIBRARIES) {
  results[name] = await run(name);
  console.log(name, JSON.stringify(results[name]));
}
console.log(`\nRedis memory per job, ${JOBS.toLocaleString("en")} no-op jobs${VARIANT ? ` (${VARIANT})` : ""} (bytes; MEMORY USAGE / used_memory growth)`);
console.log("| library | queued | after the drain |");
console.log("| --- | ---: | ---: |");
for (const [name, { queued, drained }] of Object.entries(results)) {
  console.log(`| ${name} | ${queued.usageBytesPerJob} / ${queued.usedMemoryBytesPerJob} | ${drained.usageBytesPerJob} / ${drained.usedMemoryBytesPerJob} |`);
}
observer.disconnect();
