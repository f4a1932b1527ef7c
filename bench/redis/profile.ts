/**
 * Where a Redis measurement's time goes: runs one measurement in a child, then prints the
 * rate, CPU per job in this process and in redis-server, the commands the server ran
 * (INFO commandstats, scripts' commands included), every adapter call Errand made during
 * the timed part and, with `--cpu`, a V8 CPU profile summary of the timed part.
 *
 *   npx tsc -b bench && node bench/dist/redis/profile.js                        # Errand, drain 20k, concurrency 10
 *   node bench/dist/redis/profile.js --concurrency 50 --cpu [--no-inline]
 *   node bench/dist/redis/profile.js --library bullmq --concurrency 10          # the peer, for comparison (no call log)
 *   node bench/dist/redis/profile.js --scenario sequential                      # bulk | sequential | inflight | latency
 *   node bench/dist/redis/profile.js --library bullmq --tune '{"autoPipelining":true}'
 *
 * The server is shared: its CPU and command counts include whatever else ran meanwhile.
 * The .cpuprofile goes to bench/results/profiles/ (open it in Chrome DevTools or speedscope).
 */
import { runProfileScript } from "../lib/profile-script.js";
import { formatNumber } from "../lib/stats.js";
import type { LibraryName } from "./libraries.js";
import { inChild } from "./run.js";
import type { Measurement } from "./scenarios.js";
import { REDIS_URL } from "./store.js";

await runProfileScript<LibraryName, Measurement>(process.argv.slice(2), {
  tag: "redis",
  measure: (request, execArgv) => inChild({ ...request, url: REDIS_URL, commandStats: true }, execArgv),
  storeCosts: (result) => {
    const stored =
      result.storedBytesPerJob !== undefined
        ? `; stored ${formatNumber(result.storedBytesPerJob)} bytes per job`
        : result.keptBytesPerJob !== undefined
          ? `; kept after the drain ${formatNumber(result.keptBytesPerJob)} bytes per job`
          : "";
    return `redis-server ${result.redisCpuUsPerJob?.toFixed(1) ?? "n/a"} µs${stored}`;
  },
  details: (result, done) => {
    if (!result.serverCommands) return;
    console.log("\n## server commands during the timed part (whole server)\n");
    console.log("| command | calls | per job | µs | µs per job |");
    console.log("| --- | ---: | ---: | ---: | ---: |");
    for (const [command, s] of Object.entries(result.serverCommands).slice(0, 25)) {
      console.log(`| ${command} | ${s.calls} | ${(s.calls / done).toFixed(2)} | ${s.usec} | ${(s.usec / done).toFixed(2)} |`);
    }
  },
});
