// Prints the README's adapter feature table, generated from each adapter's `capabilities`
// (STYLE: capabilities are data; docs are made from them, never written by hand).
// `node scripts/capability-table.mjs` prints it; test/readme.test.ts checks the README has it.
import { InlineAdapter, TestAdapter } from "@errand/core/adapter";
import { AsyncAdapter } from "@errand/adapter-async";
import { PostgresAdapter } from "@errand/adapter-postgres";
import { RedisAdapter } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";

const adapters = [
  { name: "postgres", capabilities: PostgresAdapter.capabilities },
  { name: "redis", capabilities: RedisAdapter.capabilities },
  { name: "sqs", capabilities: SqsAdapter.capabilities },
  { name: "sqs fifo", capabilities: SqsAdapter.fifoCapabilities },
  new AsyncAdapter(),
  new InlineAdapter(undefined),
  new TestAdapter(),
];

const rows = [
  ["durable (survives a restart)", (c) => c.durable],
  ["priorities", (c) => c.priorities],
  ["delays", (c) => (c.maxDelayMs === Infinity ? "unbounded" : c.maxDelayMs === 0 ? "no" : `up to ${c.maxDelayMs / 1000} s`)],
  ["transactional enqueue", (c) => c.transactionalEnqueue],
  ["blocking reserve (no polling)", (c) => c.blockingReserve],
  ["every queue (`--queues '*'`)", (c) => c.wildcardQueues],
  ["in-process pool, no `errand work` needed", (c) => c.embeddedWorker],
  ["ordering groups (`set({ group })`)", (c) => c.groups],
  ["unique jobs", (c) => c.unique],
  ["concurrency limits", (c) => c.concurrencyLimits],
  ["rate limits", (c) => c.rateLimits],
];

const cell = (value) => (value === true ? "yes" : value === false ? "no" : String(value));

export function capabilityTable() {
  const header = `| capability | ${adapters.map((a) => a.name).join(" | ")} |`;
  const rule = `| --- | ${adapters.map(() => "---").join(" | ")} |`;
  const body = rows.map(([label, read]) => `| ${label} | ${adapters.map((a) => cell(read(a.capabilities))).join(" | ")} |`);
  return [header, rule, ...body].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(capabilityTable());
