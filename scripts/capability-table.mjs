// Prints the README's adapter feature table, generated from each adapter's `capabilities`
// (STYLE: capabilities are data; docs are made from them, never written by hand).
// `node scripts/capability-table.mjs` prints it; test/readme.test.ts checks the README has it.
// A row that every adapter answers "no" is left out: the table shows what exists, and a
// capability appears once an adapter implements it.
import { InlineAdapter, TestAdapter } from "@errand/core/adapter";
import { AsyncAdapter } from "@errand/adapter-async";
import { PostgresAdapter } from "@errand/adapter-postgres";
import { RedisAdapter } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";

// SQS enforces flow control and offers the operator's contract through a status store shared
// by every process (Redis or PostgreSQL); its static capabilities are those with the
// in-process store.
const FLOW = { ...SqsAdapter.sharedStoreFlow, ...SqsAdapter.sharedStoreControl, ...SqsAdapter.sharedStoreBatches };
const adapters = [
  { name: "postgres", capabilities: PostgresAdapter.capabilities },
  { name: "redis", capabilities: RedisAdapter.capabilities },
  { name: "sqs", capabilities: SqsAdapter.capabilities, withSharedStore: { ...SqsAdapter.capabilities, ...FLOW } },
  { name: "sqs fifo", capabilities: SqsAdapter.fifoCapabilities, withSharedStore: { ...SqsAdapter.fifoCapabilities, ...FLOW } },
  new AsyncAdapter(),
  new InlineAdapter(undefined),
  new TestAdapter(),
];

const rows = [
  ["durable (survives a restart)", (c) => c.durable],
  ["priorities", (c) => c.priorities],
  ["priority range (lower runs first)", (c) => priorityRange(c.maxPriority)],
  ["delays", (c) => (c.maxDelayMs === Infinity ? "unbounded" : c.maxDelayMs === 0 ? "no" : `up to ${c.maxDelayMs / 1000} s`)],
  ["transactional enqueue", (c) => c.transactionalEnqueue],
  ["blocking reserve (no polling)", (c) => c.blockingReserve],
  ["every queue (`--queues '*'`)", (c) => c.wildcardQueues],
  ["in-process pool, no `errand work` needed", (c) => c.embeddedWorker],
  ["ordering groups (`set({ group })`)", (c) => c.groups],
  ["status pushed to watchers (status feed)", (c) => c.statusFeed],
  ["unique jobs", (c) => c.unique],
  ["concurrency limits", (c) => c.concurrencyLimits],
  ["rate limits", (c) => c.rateLimits],
  ["recurring tasks (one job per tick)", (c) => c.recurring],
  ["listing jobs by state (`errand jobs list`, dashboard)", (c) => c.listJobs],
  ["cancel, run now, abort, interrupt, pause queues, worker heartbeats", (c) => c.control],
  ["batches (`batch()`, callbacks once)", (c) => c.batches],
];

/** `maxPriority` as a range: priorities from -maxPriority to maxPriority are stored. */
function priorityRange(max) {
  if (max === 0) return false;
  if (max === Number.MAX_SAFE_INTEGER) return "any safe integer";
  return `±${max.toLocaleString("en-US")}`;
}

/** "with a shared status store" where only that store turns the capability on. */
function sharedStoreCell(read, adapter) {
  if (!adapter.withSharedStore || read(adapter.capabilities) !== false) return undefined;
  return read(adapter.withSharedStore) === true ? "with a shared status store" : undefined;
}

const cell = (value) => (value === true ? "yes" : value === false ? "no" : String(value));

export function capabilityTable() {
  const header = `| capability | ${adapters.map((a) => a.name).join(" | ")} |`;
  const rule = `| --- | ${adapters.map(() => "---").join(" | ")} |`;
  const body = rows
    .map(([label, read]) => [label, adapters.map((a) => sharedStoreCell(read, a) ?? cell(read(a.capabilities)))])
    .filter(([, cells]) => cells.some((value) => value !== "no"))
    .map(([label, cells]) => `| ${label} | ${cells.join(" | ")} |`);
  return [header, rule, ...body].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(capabilityTable());
