/**
 * Where a PostgreSQL drain's time goes: runs one measurement in a child, then prints the
 * rate, CPU per job in this process and in the PostgreSQL server, WAL per job, every
 * adapter call Errand made during the timed part (from `adapter:call` events: count, jobs
 * per call, time) and, with `--cpu`, a V8 CPU profile summary of the timed part.
 *
 *   npx tsc -b bench && node bench/dist/postgres/profile.js                       # Errand, drain 20k, concurrency 10
 *   node bench/dist/postgres/profile.js --concurrency 50 --cpu [--no-inline]
 *   node bench/dist/postgres/profile.js --library graphile-worker --concurrency 10  # a peer, for comparison (no call log)
 *   node bench/dist/postgres/profile.js --scenario inflight                         # enqueue: bulk | sequential | inflight | latency
 *
 * The .cpuprofile goes to bench/results/profiles/ (open it in Chrome DevTools or speedscope).
 */
import { runProfileScript } from "../lib/profile-script.js";
import { formatNumber } from "../lib/stats.js";
import type { LibraryName } from "./libraries.js";
import { DATABASE_URL, inChild } from "./run.js";
import type { Measurement } from "./scenarios.js";

await runProfileScript<LibraryName, Measurement>(process.argv.slice(2), {
  tag: "pg",
  measure: (request, execArgv) => inChild({ ...request, url: DATABASE_URL }, execArgv),
  storeCosts: (result) => {
    const pgCpu = result.postgresCpuUsPerJob === undefined ? "n/a" : `${result.postgresCpuUsPerJob.toFixed(1)} µs`;
    return `PostgreSQL ${pgCpu}; WAL ${formatNumber(result.walBytesPerJob ?? NaN)} bytes per job`;
  },
});
