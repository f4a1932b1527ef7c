/**
 * What a batch adds to a drain on Redis (issue 17: "a batch adds under 20 % to a drain"):
 * the drain of N no-op jobs enqueued in one `batch(jobs, { onComplete })` against the drain
 * of N plain jobs (`performAllLater`), both Errand, same settings otherwise.
 *
 *   npx tsc -b bench && node bench/dist/redis/batch.js                  # 20k jobs, c = 10, 5 runs each
 *   node bench/dist/redis/batch.js --jobs 10000 --runs 3 --concurrency 1,10,50
 *
 * Each run is a fresh child of the Redis bench (run.ts's `inChild`, the `drain` scenario of
 * ../lib/scenarios.ts: 300 jobs drained as a warm-up, then N enqueued untimed, then timed from
 * the first start until nothing is ready or running in Redis, so the batch's callback is
 * included), plain and batch taking turns run by run, in the other order every other run
 * (../lib/batch-sides.ts), so a slow moment of the shared machine does not land on one side
 * only. A figure is the median of its runs; "batch cost" is the batch's drain time over the
 * plain one's, less 1. Writes bench/results/redis-batch-latest.json.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

import { alternate, parseDrainOptions, type DrainOptions, type Side } from "../lib/batch-sides.js";
import { BENCH_DIR } from "../lib/profile.js";
import { median } from "../lib/stats.js";
import type { Scenario } from "../lib/scenarios.js";
import { inChild } from "./run.js";
import type { Measurement } from "./scenarios.js";
import { REDIS_URL } from "./store.js";

const USAGE = "usage: node bench/dist/redis/batch.js [--jobs N] [--runs N] [--concurrency 1,10,50]";

async function main({ jobs, runs, concurrency }: DrainOptions): Promise<void> {
  const results: Record<string, Record<Side, Measurement[]>> = {};
  for (const c of concurrency) {
    const scenario: Scenario = { kind: "drain", count: jobs, concurrency: c, warmup: 300, capMs: 60_000 };
    results[`c${c}`] = await alternate(runs, async (side, run) => {
      const measured = await inChild({ library: "errand", scenario, url: REDIS_URL, ...(side === "batch" ? { tuning: { batch: true } } : {}) });
      if (measured.capped) throw new Error(`the ${side} drain at c = ${c} was cut at its cap`);
      console.error(`c=${c} run ${run + 1} ${side}: ${Math.round(measured.value)} jobs/s, redis ${measured.redisCpuUsPerJob?.toFixed(1)} µs/job, node ${measured.nodeCpuUsPerJob?.toFixed(1)} µs/job`);
      return measured;
    });
  }

  const med = (list: Measurement[], read: (m: Measurement) => number | undefined) => median(list.map((m) => read(m) ?? Number.NaN));
  console.log(`\nDrain of ${jobs.toLocaleString("en-US")} no-op jobs, one batch vs plain (medians of ${runs} alternating runs)\n`);
  console.log("| concurrency | plain jobs/s | batch jobs/s | batch cost (time) | redis-server µs/job plain / batch | worker µs/job plain / batch |");
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
  const summary: Record<string, unknown> = {};
  for (const c of concurrency) {
    const { plain, batch } = results[`c${c}`]!;
    const rate = (list: Measurement[]) => med(list, (m) => m.value);
    const cost = rate(plain) / rate(batch) - 1;
    const redis = [med(plain, (m) => m.redisCpuUsPerJob), med(batch, (m) => m.redisCpuUsPerJob)];
    const node = [med(plain, (m) => m.nodeCpuUsPerJob), med(batch, (m) => m.nodeCpuUsPerJob)];
    console.log(`| ${c} | ${Math.round(rate(plain)).toLocaleString("en-US")} | ${Math.round(rate(batch)).toLocaleString("en-US")} | ${(cost * 100).toFixed(1)} % | ${redis[0]!.toFixed(1)} / ${redis[1]!.toFixed(1)} | ${node[0]!.toFixed(1)} / ${node[1]!.toFixed(1)} |`);
    summary[`c${c}`] = { plainRate: rate(plain), batchRate: rate(batch), batchCost: cost, redisCpuUsPerJob: redis, nodeCpuUsPerJob: node, runs: results[`c${c}`] };
  }
  const file = join(BENCH_DIR, "results", "redis-batch-latest.json");
  await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), jobs, runs, summary }, null, 2)}\n`);
  console.log(`\nwritten: ${file}`);
}

await main(parseDrainOptions(process.argv.slice(2), { jobs: 20_000, runs: 5, concurrency: [10] }, USAGE));
