/**
 * What a batch adds to a drain on PostgreSQL (issue 17's goal: under 20 %): N no-op jobs in
 * one batch against N plain ones, through Errand's worker, as the drains of run.ts measure
 * them (first start until every job is finished in the table).
 *
 *   npx tsc -b bench && node bench/dist/postgres/batch-drain.js [--runs 5] [--drain-jobs 20000] [--concurrency 1,10] [--batch 1000]
 *
 * The batch side is `--tune '{"errand":{"batch":true}}'` (libraries.ts, `batchDrain`): one
 * batch per bulk enqueue with a `complete` callback, sealed before the workers start; every
 * settle counts into it (migration 019) and the last inserts the callback, which the workers
 * then run — the drain ends when it finished too. Each (run, side) is a fresh child on a
 * freshly dropped schema; the two sides take turns, in the other order every other run
 * (../lib/batch-sides.ts), and
 * each figure is the median of the runs. Prints one markdown table: rate, PostgreSQL CPU,
 * WAL and worker CPU per job, and what the batch adds (plain rate ÷ batch rate − 1).
 * Uses DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
 */
import { alternate, percentOver, SIDES, type Side } from "../lib/batch-sides.js";
import { median } from "../lib/stats.js";
import { DATABASE_URL, inChild } from "./run.js";

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : (process.argv[at + 1] ?? "");
}
const KNOWN = new Set(["--runs", "--drain-jobs", "--concurrency", "--batch"]);
for (let i = 2; i < process.argv.length; i += 2) {
  if (!KNOWN.has(process.argv[i]!)) throw new Error(`batch-drain: unknown option ${JSON.stringify(process.argv[i])} (known: ${[...KNOWN].join(", ")})`);
}
const positive = (name: string, text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`batch-drain: ${name} must be an integer >= 1, got ${JSON.stringify(text)}`);
  return value;
};
const runs = positive("--runs", option("--runs", "5"));
const jobs = positive("--drain-jobs", option("--drain-jobs", "20000"));
const batch = positive("--batch", option("--batch", "1000"));
const concurrencies = option("--concurrency", "1,10").split(",").map((c) => positive("--concurrency", c));

console.log(`Drain of ${jobs.toLocaleString("en-US")} no-op jobs, prefetch ${batch}: one batch vs plain jobs (median of ${runs} runs)\n`);
console.log("| concurrency | side | jobs/s | PostgreSQL CPU µs/job | WAL B/job | worker CPU µs/job | batch adds |");
console.log("| ---: | --- | ---: | ---: | ---: | ---: | ---: |");
for (const concurrency of concurrencies) {
  const measured = await alternate(runs, (side, run) => {
    process.stderr.write(`c=${concurrency} run ${run + 1}/${runs} ${side}\n`);
    return inChild({
      library: "errand",
      url: DATABASE_URL,
      scenario: { kind: "drain", count: jobs, concurrency, warmup: 300, capMs: 60_000 },
      tuning: side === "batch" ? { prefetch: batch, batch: true } : { prefetch: batch },
    });
  });
  const rate = (side: Side) => median(measured[side].map((m) => m.value));
  const cost = (side: Side, key: "postgresCpuUsPerJob" | "walBytesPerJob" | "nodeCpuUsPerJob") => median(measured[side].map((m) => m[key] ?? NaN)).toFixed(1);
  for (const side of SIDES) {
    const adds = side === "batch" ? percentOver(rate("plain"), rate("batch")) : "";
    console.log(
      `| ${concurrency} | ${side} | ${Math.round(rate(side)).toLocaleString("en-US")} | ${cost(side, "postgresCpuUsPerJob")} | ${cost(side, "walBytesPerJob")} | ${cost(side, "nodeCpuUsPerJob")} | ${adds} |`,
    );
  }
}
