/**
 * Errand-sqs and sqs-consumer, one after another on the same SQS.
 *
 *   npm run bench:sqs                                  # 3 runs per figure (median)
 *   node bench/dist/sqs/run.js --runs 1                # quicker (partial)
 *   node bench/dist/sqs/run.js --only drain            # groups: enqueue, drain
 *   node bench/dist/sqs/run.js --libraries errand
 *   node bench/dist/sqs/run.js --drain-jobs 2000
 *   node bench/dist/sqs/run.js --tune '{"errand":{"receivesInFlight":5}}'
 *
 * The SQS is SQS_ENDPOINT when set, else a fauxqs emulator this process starts for the
 * whole run (and stops at the end); its URL goes to every child. Every (figure, run,
 * library) is one fresh `node --expose-gc` child, which creates its queues under a
 * queue-name prefix of its own and deletes them when it ends. The runs of a figure take
 * turns between the libraries. A figure is the median of its runs. Prints a markdown table
 * with Errand's ratio to sqs-consumer and the goals, and writes bench/results/sqs-latest.json
 * (a partial run: sqs-latest.partial.json).
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { reply, runChild } from "../lib/child.js";
import { parseCompareArgs, runComparison, standardFigures, type CompareOptions, type FigureSpec, type GoalSpec } from "../lib/compare.js";
import { errandUnavailable } from "../lib/errand.js";
import { BENCH_DIR } from "../lib/profile.js";
import { LIBRARIES, SQS_CONSUMER_VERSION, type LibraryName } from "./libraries.js";
import { measure, type ChildParams, type Measurement, type SqsScenario } from "./scenarios.js";
import { deleteQueues, freshPrefix, openSqs, sqsClient } from "./store.js";

// The AWS SDK warns once per process that its releases from 2027 on need Node 22: true,
// and beside the point here (every child would print it). Set before any client exists;
// the children inherit it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const SELF = fileURLToPath(import.meta.url);
const RESULTS = join(BENCH_DIR, "results", "sqs-latest.json");
const DEFAULT_DRAIN_JOBS = 5_000;
const FULL_RUNS = 3;
/** Both libraries' drains are cut here; neither waits on a timer while messages are ready. */
const DRAIN_CAP_MS = 30_000;

/**
 * Runs one measurement in a fresh child under a fresh queue-name prefix. Should the child
 * die before its own clean-up, the prefix's queues are deleted from here.
 */
export async function inChild(params: Omit<ChildParams, "prefix"> & { prefix?: string }, execArgv: string[] = []): Promise<Measurement> {
  const full: ChildParams = { ...params, prefix: params.prefix ?? freshPrefix(params.library) };
  try {
    return await runChild<Measurement>(SELF, ["--child", JSON.stringify(full)], execArgv, `${full.library} ${JSON.stringify(full.scenario)}`);
  } catch (error) {
    const sqs = sqsClient(full.endpoint);
    try {
      await deleteQueues(sqs, full.prefix).catch(() => undefined);
    } finally {
      sqs.destroy();
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------
// What is measured: a subset of the figures shared with the other comparisons
// (../lib/compare.ts), enqueues of 5k, and every drain twice, once beside each of
// sqs-consumer's handlers.

function figureSpecs(drainJobs: number): FigureSpec[] {
  const standard = standardFigures(drainJobs, { drainWarmup: 300, drainCapMs: DRAIN_CAP_MS, latencyCapMs: 10_000 });
  const pick = (key: string) => standard.find((f) => f.key === key)!;
  // 5k like the other enqueue: every message is one HTTP request's share on SQS, and the emulator runs on the same 2 cores.
  const bulk: FigureSpec = { ...pick("enqueue.bulk"), figure: "Enqueue bulk, 5k jobs in one call", scenario: { kind: "bulk", count: 5_000, warmup: 500 } };
  const withHandler = (spec: FigureSpec, handler: "message" | "batch"): FigureSpec => {
    const name = handler === "batch" ? "handleMessageBatch" : "handleMessage";
    const scenario: SqsScenario = handler === "batch" ? { ...spec.scenario, handler } : spec.scenario;
    return { ...spec, key: handler === "batch" ? spec.key.replace("drain.", "drain.batch.") : spec.key, figure: `${spec.figure} (sqs-consumer: ${name})`, scenario };
  };
  const drains = ["drain.c10", "drain.c50"].map(pick);
  const rss = ["rss.drain.c10", "rss.drain.c50"].map(pick);
  return [
    bulk,
    pick("enqueue.inflight32"),
    ...drains.map((spec) => withHandler(spec, "message")),
    ...drains.map((spec) => withHandler(spec, "batch")),
    ...rss.map((spec) => withHandler(spec, "message")),
    ...rss.map((spec) => withHandler(spec, "batch")),
  ];
}

const USAGE = "usage: node bench/dist/sqs/run.js [--runs N] [--only enqueue,drain] [--libraries errand,sqs-consumer] [--drain-jobs N] [--tune JSON]";

const GOALS: GoalSpec<LibraryName>[] = [
  ...[10, 50].map((c) => ({ goal: `drain c=${c} ≥ 2× sqs-consumer (handleMessage)`, key: `drain.c${c}`, peer: "sqs-consumer" as const, atLeast: 2 })),
  ...[10, 50].map((c) => ({ goal: `drain c=${c} ≥ sqs-consumer (handleMessageBatch)`, key: `drain.batch.c${c}`, peer: "sqs-consumer" as const, atLeast: 1 })),
];

// ---------------------------------------------------------------------------------------
// Parent.

async function main(options: CompareOptions<LibraryName>): Promise<void> {
  const sqs = await openSqs();
  process.stderr.write(`SQS: ${sqs.description} at ${sqs.endpoint}\n`);
  try {
    await runComparison<LibraryName, Measurement>(options, {
      title: `Errand-sqs vs sqs-consumer ${SQS_CONSUMER_VERSION} on ${sqs.description}`,
      libraries: LIBRARIES,
      ratios: [{ peer: "sqs-consumer", label: "errand/sqs-consumer" }],
      errandMissing: options.libraries.includes("errand") ? await errandUnavailable("@errand/adapter-sqs") : undefined,
      figures: figureSpecs(options.drainJobs),
      measure: (library, scenario, tuning) => {
        const params: Omit<ChildParams, "prefix"> = { library, scenario, endpoint: sqs.endpoint };
        if (sqs.emulatorPid !== undefined) params.emulatorPid = sqs.emulatorPid;
        if (tuning) params.tuning = tuning;
        return inChild(params);
      },
      footnote:
        "↑ higher is better, ↓ lower is better; ratios are errand ÷ sqs-consumer. Errand has one way to run jobs: in the handleMessageBatch " +
        "rows its column is the same drain, measured again beside that setup. sqs-consumer enqueues with the AWS SDK (SendMessageBatch in tens " +
        `for the bulk, SendMessage for single jobs). * the drain was cut at its time cap (${DRAIN_CAP_MS / 1000} s): the rate reached until then.`,
      goals: GOALS,
      versions: { "sqs-consumer": SQS_CONSUMER_VERSION },
      environment: { sqs: { server: sqs.description, endpoint: sqs.endpoint } },
      results: RESULTS,
      fullRuns: FULL_RUNS,
      defaultDrainJobs: DEFAULT_DRAIN_JOBS,
    });
  } finally {
    await sqs.stop();
  }
}

if (process.argv[2] === "--child") {
  await reply(await measure(JSON.parse(process.argv[3]!) as ChildParams));
} else if (process.argv[1] === SELF) {
  await main(parseCompareArgs(process.argv.slice(2), LIBRARIES, USAGE, DEFAULT_DRAIN_JOBS));
}
