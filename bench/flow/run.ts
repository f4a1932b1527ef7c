/**
 * The flow-control bench: what unique, concurrency-limited and rate-limited jobs cost
 * against plain jobs on each backend (async, Redis, PostgreSQL, SQS with a Redis status
 * store), with no limit binding — the cost of deciding —, and BullMQ's deduplication and
 * queue rate limiter against its plain jobs beside them on Redis.
 *
 *   npm run bench:flow                                   # 3 runs per figure (median)
 *   node bench/dist/flow/run.js --runs 1                 # quicker (partial)
 *   node bench/dist/flow/run.js --backends redis,postgres --only drain
 *   node bench/dist/flow/run.js --variants plain,unique --drain-jobs 5000
 *
 * Every (backend, figure, run, variant) is one fresh `node --expose-gc` child under a
 * fresh prefix; within a figure the variants take turns run by run. A figure is the median
 * of its runs. Prints one table per backend with each variant's ratio to plain and the
 * 15 % goal, then BullMQ's, and writes bench/results/flow-latest.json (a partial run:
 * flow-latest.partial.json). Redis: REDIS_URL, else redis://127.0.0.1:6379; PostgreSQL:
 * DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test; SQS: SQS_ENDPOINT, else a
 * fauxqs emulator started here for the run.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

import { reply, runChild } from "../lib/child.js";
import { BENCH_DIR } from "../lib/profile.js";
import type { Scenario } from "../lib/scenarios.js";
import { median } from "../lib/stats.js";
import { freshPrefix as redisPrefix, REDIS_URL } from "../redis/store.js";
import { deleteQueues, freshPrefix as sqsPrefix, openSqs, sqsClient } from "../sqs/store.js";
import { BACKENDS, BULL_VARIANTS, BULLMQ_VERSION, deleteRedisKeys, ERRAND_VARIANTS, FLOW_KEYS, statusStorePrefix, type Backend, type Variant } from "./libraries.js";
import { measure, type ChildParams, type Measurement } from "./scenarios.js";
import { fold, printTables, type Figure, type FigureKind } from "./table.js";
import { machineFacts } from "../lib/machine.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const SELF = fileURLToPath(import.meta.url);
const RESULTS = join(BENCH_DIR, "results", "flow-latest.json");
export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const DEFAULTS = { runs: 3, drainJobs: 20_000, sqsJobs: 5_000, concurrency: 10 };

/**
 * Runs one measurement in a fresh child. Should the child die before its own clean-up, what
 * it wrote under its prefix (Redis keys, SQS queues and the status store's keys) is deleted
 * from here.
 */
export async function inChild(params: ChildParams, execArgv: string[] = []): Promise<Measurement> {
  try {
    return await runChild<Measurement>(SELF, ["--child", JSON.stringify(params)], execArgv, `${params.backend} ${params.variant} ${JSON.stringify(params.scenario)}`);
  } catch (error) {
    if (params.backend === "redis") await deleteRedisKeys(params.redisUrl, params.prefix).catch(() => undefined);
    if (params.backend === "sqs" && params.sqsEndpoint) {
      const sqs = sqsClient(params.sqsEndpoint);
      await deleteQueues(sqs, params.prefix).catch(() => undefined);
      sqs.destroy();
      const store = statusStorePrefix(params.prefix);
      await deleteRedisKeys(params.redisUrl, store, store).catch(() => undefined);
    }
    throw error;
  }
}

/** A child's parameters for `variant` on `backend` (a fresh prefix each). */
export function childParams(backend: Backend, variant: Variant, scenario: Scenario, sqs?: { endpoint: string; emulatorPid?: number }): ChildParams {
  const params: ChildParams = {
    backend,
    variant,
    scenario,
    redisUrl: REDIS_URL,
    databaseUrl: DATABASE_URL,
    prefix: backend === "sqs" ? sqsPrefix(`flow${variant}`) : redisPrefix(`flow-${variant}`),
  };
  if (backend === "sqs") {
    if (!sqs) throw new Error("the sqs backend needs an SQS endpoint");
    params.sqsEndpoint = sqs.endpoint;
    if (sqs.emulatorPid !== undefined) params.emulatorPid = sqs.emulatorPid;
  }
  return params;
}

/** The scenario of a figure on a backend: a drain at `concurrency`, or one bulk enqueue. */
export function scenarioFor(kind: FigureKind, jobs: number, concurrency: number): Scenario {
  // Neither library polls while jobs are ready: the cap only keeps a stuck run from stalling the bench.
  return kind === "drain" ? { kind: "drain", count: jobs, concurrency, warmup: 300, capMs: 60_000 } : { kind: "bulk", count: jobs, warmup: 1_000 };
}

interface Options {
  runs: number;
  backends: Backend[];
  variants: Variant[];
  only: FigureKind[];
  drainJobs: number;
  sqsJobs: number;
  concurrency: number;
}

const USAGE =
  "usage: node bench/dist/flow/run.js [--runs N] [--backends async,redis,postgres,sqs] [--variants plain,unique,concurrency,rate,bullmq,bullmq-dedup,bullmq-limiter] " +
  "[--only drain,enqueue] [--drain-jobs N] [--sqs-jobs N] [--concurrency N]";

function parseArgs(argv: string[]): Options {
  const options: Options = {
    runs: DEFAULTS.runs,
    backends: [...BACKENDS],
    variants: [...ERRAND_VARIANTS, ...BULL_VARIANTS],
    only: ["drain", "enqueue"],
    drainJobs: DEFAULTS.drainJobs,
    sqsJobs: DEFAULTS.sqsJobs,
    concurrency: DEFAULTS.concurrency,
  };
  const integer = (name: string, text: string | undefined) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be an integer >= 1, got ${text}`);
    return value;
  };
  const list = <T extends string>(name: string, text: string | undefined, known: readonly T[]) => {
    const values = (text ?? "").split(",") as T[];
    for (const value of values) if (!known.includes(value)) throw new Error(`${name}: unknown ${JSON.stringify(value)}; one of ${known.join(", ")}`);
    return values;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = () => argv[++i];
    if (arg === "--runs") options.runs = integer(arg, next());
    else if (arg === "--backends") options.backends = list(arg, next(), BACKENDS);
    else if (arg === "--variants") options.variants = list(arg, next(), [...ERRAND_VARIANTS, ...BULL_VARIANTS]);
    else if (arg === "--only") options.only = list(arg, next(), ["drain", "enqueue"] as const);
    else if (arg === "--drain-jobs") options.drainJobs = integer(arg, next());
    else if (arg === "--sqs-jobs") options.sqsJobs = integer(arg, next());
    else if (arg === "--concurrency") options.concurrency = integer(arg, next());
    else if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  return options;
}

/** The variants a figure runs on a backend: all four Errand ones drain; only plain and unique differ at enqueue. BullMQ's on Redis. */
function variantsOf(backend: Backend, kind: FigureKind, selected: Variant[]): Variant[] {
  const errand: Variant[] = kind === "drain" ? [...ERRAND_VARIANTS] : ["plain", "unique"];
  const bull: Variant[] = backend !== "redis" ? [] : kind === "drain" ? [...BULL_VARIANTS] : ["bullmq", "bullmq-dedup"];
  return [...errand, ...bull].filter((variant) => selected.includes(variant));
}

async function main(options: Options): Promise<void> {
  const began = performance.now();
  const log = (message: string) => process.stderr.write(`${message}\n`);
  const sqs = options.backends.includes("sqs") ? await openSqs() : undefined;
  if (sqs) log(`SQS: ${sqs.description} at ${sqs.endpoint}`);
  const figures: Figure[] = [];
  const measurements: Record<string, Record<string, Omit<Measurement, "settings">[]>> = {};
  const settings: Record<string, unknown> = {};
  try {
    for (const backend of options.backends) {
      for (const kind of options.only) {
        const jobs = backend === "sqs" ? options.sqsJobs : options.drainJobs;
        const scenario = scenarioFor(kind, jobs, options.concurrency);
        const variants = variantsOf(backend, kind, options.variants);
        const byVariant: Partial<Record<Variant, Measurement[]>> = {};
        for (let run = 1; run <= options.runs; run++) {
          for (const variant of variants) {
            const t = performance.now();
            const result = await inChild(childParams(backend, variant, scenario, sqs));
            (byVariant[variant] ??= []).push(result);
            settings[`${backend}.${variant}`] ??= result.settings;
            log(`  ${backend} ${kind} ${variant} run ${run}/${options.runs}: ${Math.round(result.value)} jobs/s${result.capped ? " (capped)" : ""} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
          }
        }
        figures.push(...fold(backend, kind, jobs, options.concurrency, byVariant));
        measurements[`${backend}.${kind}`] = Object.fromEntries(
          Object.entries(byVariant).map(([variant, runs]) => [variant, runs.map(({ settings: _settings, ...rest }) => rest)]),
        );
      }
    }
  } finally {
    await sqs?.stop();
  }
  const seconds = (performance.now() - began) / 1000;
  const title = `Errand flow control vs plain jobs, and BullMQ ${BULLMQ_VERSION} — median of ${options.runs} run(s), node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}`;
  const goals = printTables(title, figures);
  console.log(`\n(${seconds.toFixed(0)} s)`);

  const report = {
    ...machineFacts(),
    versions: { bullmq: BULLMQ_VERSION },
    sqs: sqs?.description,
    options,
    flowKeys: FLOW_KEYS,
    runsPerFigure: options.runs,
    durationSeconds: Math.round(seconds),
    settings,
    figures,
    goals,
    measurements,
  };
  const full =
    options.runs === DEFAULTS.runs &&
    options.backends.length === BACKENDS.length &&
    options.variants.length === ERRAND_VARIANTS.length + BULL_VARIANTS.length &&
    options.only.length === 2 &&
    options.drainJobs === DEFAULTS.drainJobs &&
    options.sqsJobs === DEFAULTS.sqsJobs &&
    options.concurrency === DEFAULTS.concurrency;
  const file = full ? RESULTS : RESULTS.replace(/\.json$/, ".partial.json");
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${relative(process.cwd(), file)}`);
}

if (process.argv[2] === "--child") {
  await reply(await measure(JSON.parse(process.argv[3]!) as ChildParams));
} else if (process.argv[1] === SELF) {
  await main(parseArgs(process.argv.slice(2)));
}
