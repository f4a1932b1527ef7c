/**
 * What a batch adds to a drain on SQS (issue 17: "a batch adds under 20 % to a drain"), with
 * the Redis status store (batches on SQS need a shared store: the store counts, SQS holds the
 * messages): the drain of N no-op jobs enqueued in one `batch(jobs, { onComplete })` against
 * the drain of N plain jobs (`performAllLater`), both Errand on the same store, same settings
 * otherwise.
 *
 *   npx tsc -b bench && node bench/dist/sqs/batch.js                  # 5k jobs, c = 10, 5 runs each
 *   node bench/dist/sqs/batch.js --jobs 2000 --runs 3 --concurrency 10,50
 *
 * The SQS is SQS_ENDPOINT when set, else a fauxqs emulator this process starts (as run.ts
 * does); the store is on REDIS_URL, else redis://127.0.0.1:6379, under a fresh prefix per run
 * (deleted at the end). Each run is a fresh child of the SQS bench (run.ts's `inChild`, the
 * `drain` scenario: 300 jobs drained as a warm-up, then N enqueued untimed, then timed from
 * the first start until the queue holds no message; the batch's callback is sent before the
 * last job's message is deleted, so its run is included). Plain and batch take turns, in the
 * other order every other run (../lib/batch-sides.ts). A figure is the median of its runs; "batch cost" is the
 * batch's drain time over the plain one's, less 1.
 */
import { alternate, parseDrainOptions, percentOver, type DrainOptions, type Side } from "../lib/batch-sides.js";
import { median } from "../lib/stats.js";
import type { Scenario } from "../lib/scenarios.js";
import { inChild } from "./run.js";
import type { Measurement } from "./scenarios.js";
import { openSqs } from "./store.js";

const USAGE = "usage: node bench/dist/sqs/batch.js [--jobs N] [--runs N] [--concurrency 10,50]";

async function main({ jobs, runs, concurrency }: DrainOptions): Promise<void> {
  const sqs = await openSqs();
  process.stderr.write(`SQS: ${sqs.description} at ${sqs.endpoint}\n`);
  const results: Record<string, Record<Side, Measurement[]>> = {};
  try {
    for (const c of concurrency) {
      const scenario: Scenario = { kind: "drain", count: jobs, concurrency: c, warmup: 300, capMs: 60_000 };
      results[`c${c}`] = await alternate(runs, async (side, run) => {
        const measured = await inChild({
          library: "errand",
          scenario,
          endpoint: sqs.endpoint,
          ...(sqs.emulatorPid === undefined ? {} : { emulatorPid: sqs.emulatorPid }),
          tuning: side === "batch" ? { status: "redis", batch: true } : { status: "redis" },
        });
        if (measured.capped) throw new Error(`the ${side} drain at c = ${c} was cut at its cap`);
        const us = (value: number | undefined) => value?.toFixed(1) ?? "n/a";
        process.stderr.write(
          `c=${c} run ${run + 1}/${runs} ${side}: ${Math.round(measured.value)} jobs/s, worker ${us(measured.nodeCpuUsPerJob)} µs/job, fauxqs ${us(measured.emulatorCpuUsPerJob)}, redis ${us(measured.redisCpuUsPerJob)}\n`,
        );
        return measured;
      });
    }
  } finally {
    await sqs.stop();
  }

  const med = (list: Measurement[], read: (m: Measurement) => number | undefined) => median(list.map((m) => read(m) ?? Number.NaN));
  console.log(`\nDrain of ${jobs.toLocaleString("en-US")} no-op jobs on ${sqs.description}, Redis status store: one batch vs plain (medians of ${runs} alternating runs)\n`);
  console.log("| concurrency | plain jobs/s | batch jobs/s | batch cost (time) | worker µs/job plain / batch | fauxqs µs/job plain / batch | redis-server µs/job plain / batch |");
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const c of concurrency) {
    const { plain, batch } = results[`c${c}`]!;
    const rate = (list: Measurement[]) => med(list, (m) => m.value);
    const pair = (read: (m: Measurement) => number | undefined) => `${med(plain, read).toFixed(1)} / ${med(batch, read).toFixed(1)}`;
    console.log(
      `| ${c} | ${Math.round(rate(plain)).toLocaleString("en-US")} | ${Math.round(rate(batch)).toLocaleString("en-US")} | ${percentOver(rate(plain), rate(batch))} | ` +
        `${pair((m) => m.nodeCpuUsPerJob)} | ${pair((m) => m.emulatorCpuUsPerJob)} | ${pair((m) => m.redisCpuUsPerJob)} |`,
    );
  }
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
await main(parseDrainOptions(process.argv.slice(2), { jobs: 5_000, runs: 5, concurrency: [10] }, USAGE));
