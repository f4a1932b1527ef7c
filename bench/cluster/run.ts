/**
 * Errand on a three-master Redis Cluster against one standalone redis-server, all started
 * here on free loopback ports and all removed at the end (`servers.ts`).
 *
 *   npm run bench:cluster                               # 3 runs per setup (median), 3–5 min
 *   node bench/dist/cluster/run.js --runs 1 --jobs 10000 --workers 3 --concurrency 10
 *
 * Picks six queue names whose hash slots fall two on each master (printed), then drains the
 * same jobs on each setup (`measure.ts`): six queues and one queue, on the standalone server
 * and on the cluster, plus six queues on the cluster tried in strict order. Setups take
 * turns run by run, so a slow moment of the shared machine does not land on one setup only.
 * Prints a markdown table and writes bench/results/cluster-latest.json (any run other than
 * the default: cluster-latest.partial.json).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { machineFacts } from "../lib/machine.js";
import { BENCH_DIR } from "../lib/profile.js";
import { formatNumber, median } from "../lib/stats.js";
import { measureDrain, type Drain, type Setup } from "./measure.js";
import { command, slotOf, slotOwners, startCluster, startStandalone, stopAll, type Server } from "./servers.js";

const DEFAULTS = { runs: 3, jobs: 30_000, workers: 2, concurrency: 10 };

const { values } = parseArgs({
  options: {
    runs: { type: "string" },
    jobs: { type: "string" },
    workers: { type: "string" },
    concurrency: { type: "string" },
  },
  strict: true,
});

function positive(name: keyof typeof DEFAULTS): number {
  const given = values[name];
  if (given === undefined) return DEFAULTS[name];
  const value = Number(given);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(given)}`);
  return value;
}

const options = { runs: positive("runs"), jobs: positive("jobs"), workers: positive("workers"), concurrency: positive("concurrency") };
const full = Object.entries(DEFAULTS).every(([key, value]) => options[key as keyof typeof DEFAULTS] === value);

/** Six queue names, two per master: the first candidates `q0`, `q1`, … whose slot each master still lacks. */
async function pickQueues(cluster: readonly Server[]) {
  const owners = await slotOwners(cluster[0]!);
  const picked: { queue: string; slot: number; port: number }[] = [];
  for (let i = 0; picked.length < 2 * cluster.length; i++) {
    const queue = `q${i}`;
    // The adapter tags every key of a queue with `{queue}`, so the queue's slot is the slot of its name.
    const { slot, port } = await slotOf(cluster[0]!, queue, owners);
    if (picked.filter((p) => p.port === port).length < 2) picked.push({ queue, slot, port });
  }
  return { owners, picked: picked.sort((a, b) => a.port - b.port) };
}

/**
 * The drain rate at which the servers alone would be the limit, each master on a core of its
 * own: the busiest server at any moment does `busiestNodeShare` of the servers' CPU per job,
 * and one core gives 10^6 µs a second. A figure of this machine's CPU per job, so it holds
 * when the measured rates do not (other work on the 2 shared cores moves those by 2× and more).
 */
function serverBound(drain: Drain): number {
  const serverUsPerJob = drain.nodes.reduce((sum, n) => sum + n.cpuUsPerJob, 0);
  return 1e6 / (serverUsPerJob * drain.busiestNodeShare);
}

function summarize(drains: Drain[]) {
  const nodeCount = drains[0]!.nodes.length;
  return {
    jobsPerSecond: median(drains.map((d) => d.jobsPerSecond)),
    enqueueJobsPerSecond: median(drains.map((d) => d.enqueueJobsPerSecond)),
    serverCpuUsPerJob: median(drains.map((d) => d.nodes.reduce((sum, n) => sum + n.cpuUsPerJob, 0))),
    workerCpuUsPerJob: median(drains.map((d) => d.workerCpuUsPerJob)),
    busiestNodeShare: median(drains.map((d) => d.busiestNodeShare)),
    serverBoundJobsPerSecond: median(drains.map(serverBound)),
    nodes: Array.from({ length: nodeCount }, (_, i) => ({
      port: drains[0]!.nodes[i]!.port,
      cpuUsPerJob: median(drains.map((d) => d.nodes[i]!.cpuUsPerJob)),
      cpuShareOfCore: median(drains.map((d) => d.nodes[i]!.cpuShareOfCore)),
      commandsPerJob: median(drains.map((d) => d.nodes[i]!.commandsPerJob)),
      keysAfterEnqueue: median(drains.map((d) => d.nodes[i]!.keysAfterEnqueue)),
    })),
  };
}

async function main(): Promise<void> {
  const [cluster, standalone] = await Promise.all([startCluster(3), startStandalone()]);
  const version = String(await command(standalone, "INFO", "server")).match(/redis_version:(\S+)/)?.[1];
  const { owners, picked } = await pickQueues(cluster);
  const six = picked.map((p) => p.queue);
  console.log(`Redis ${version}; cluster masters ${cluster.map((n) => n.port).join(", ")} (slots ${owners.map(([a, b, port]) => `${a}-${b} → ${port}`).join(", ")}); standalone ${standalone.port}`);
  console.log(`${options.jobs} jobs per drain, ${options.workers} worker processes × concurrency ${options.concurrency}, ${options.runs} runs per setup\n`);
  console.log("| queue | hash slot | master |\n| --- | ---: | ---: |");
  for (const p of picked) console.log(`| ${p.queue} | ${p.slot} | ${p.port} |`);
  console.log("");

  const setups: Setup[] = [
    { name: "standalone, 6 queues", target: "standalone", queues: six, order: "weighted" },
    { name: "cluster, 6 queues (2 per master)", target: "cluster", queues: six, order: "weighted" },
    { name: "cluster, 6 queues, strict order", target: "cluster", queues: six, order: "strict" },
    { name: "standalone, 1 queue", target: "standalone", queues: [six[0]!], order: "weighted" },
    { name: "cluster, 1 queue (one slot)", target: "cluster", queues: [six[0]!], order: "weighted" },
  ];
  const drains = new Map<string, Drain[]>(setups.map((s) => [s.name, []]));
  for (let run = 0; run < options.runs; run++) {
    // Each run starts at a different setup, so no setup always runs first.
    for (let k = 0; k < setups.length; k++) {
      const setup = setups[(k + run) % setups.length]!;
      const drain = await measureDrain(setup, setup.target === "cluster" ? cluster : [standalone], options);
      drains.get(setup.name)!.push(drain);
      const nodes = drain.nodes.map((n) => `${n.port}: ${formatNumber(n.cpuUsPerJob)} µs/job, ${formatNumber(100 * n.cpuShareOfCore, 0)} % of a core`).join("; ");
      console.log(`run ${run + 1} · ${setup.name}: ${formatNumber(drain.jobsPerSecond)} jobs/s (${nodes}; busiest node ${formatNumber(100 * drain.busiestNodeShare, 0)} %; jobs per worker ${drain.startsPerWorker.join("/")})`);
    }
  }

  const results = setups.map((setup) => ({ ...setup, runs: drains.get(setup.name)!, median: summarize(drains.get(setup.name)!) }));
  console.log(`\nMedians of ${options.runs}:\n`);
  console.log("| setup | drain jobs/s ↑ | server CPU µs/job, all nodes | per node: CPU µs/job (share of one core) | busiest node's share, per 100 ms | server-bound ceiling, jobs/s | worker CPU µs/job | enqueue jobs/s |");
  console.log("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
  for (const r of results) {
    const m = r.median;
    const nodes = m.nodes.map((n) => `${formatNumber(n.cpuUsPerJob)} (${formatNumber(100 * n.cpuShareOfCore, 0)} %)`).join(" / ");
    console.log(`| ${r.name} | ${formatNumber(m.jobsPerSecond)} | ${formatNumber(m.serverCpuUsPerJob)} | ${nodes} | ${formatNumber(100 * m.busiestNodeShare, 0)} % | ${formatNumber(m.serverBoundJobsPerSecond)} | ${formatNumber(m.workerCpuUsPerJob)} | ${formatNumber(m.enqueueJobsPerSecond)} |`);
  }
  const rate = (name: string) => results.find((r) => r.name === name)!.median.jobsPerSecond;
  const ceiling = (name: string) => results.find((r) => r.name === name)!.median.serverBoundJobsPerSecond;
  const ratios = (f: (name: string) => number) =>
    `cluster / standalone, 6 queues ${(f(setups[1]!.name) / f(setups[0]!.name)).toFixed(2)}×; cluster, 6 queues / 1 queue ${(f(setups[1]!.name) / f(setups[4]!.name)).toFixed(2)}×; weighted / strict order ${(f(setups[1]!.name) / f(setups[2]!.name)).toFixed(2)}×`;
  console.log(`\nmeasured rates: ${ratios(rate)}`);
  console.log(`server-bound ceilings: ${ratios(ceiling)}`);

  const file = join(BENCH_DIR, "results", full ? "cluster-latest.json" : "cluster-latest.partial.json");
  writeFileSync(file, `${JSON.stringify({ machine: { ...machineFacts(), redis: version }, options, queues: picked, slotOwners: owners, results }, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
}

try {
  await main();
} finally {
  stopAll();
}
