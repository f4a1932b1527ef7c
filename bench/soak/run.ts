/**
 * The soak bench (issue 14, "Sustained load"): one durable backend under a steady load for
 * a long time, then a burst, recording per period how latency, throughput, storage and
 * memory move. See README.md.
 *
 *   npm run bench:soak -- --backend postgres                 # 1M jobs at 70 % of the drain rate, then 200k at once
 *   npm run bench:soak -- --backend redis --short            # ~1.5 min: checks that it works
 *   npm run bench:soak -- --backend sqs --jobs 50000 --burst 20000
 *   npm run bench:soak -- --backend postgres --scheduled 1000000   # with 1M jobs scheduled a week ahead
 *
 * The run, in this (parent) process:
 *   setup      a fresh schema / prefix / queue prefix (and for SQS a fauxqs process);
 *              migrated; one producer and two worker processes forked, workers idle;
 *   calibrate  `calibration` jobs enqueued, then both workers start: the drain rate is
 *              that of the drain's second half. With `--scheduled` a warm-up drain
 *              comes first, and the drain runs again after the producer enqueued the
 *              scheduled jobs (the workers stopped meanwhile).
 *              Then, unless `--rate`, the capacity: `calibration` jobs enqueued as fast
 *              as the producer goes while the workers work, through per second;
 *   steady     the producer enqueues `jobs` at the rate (`--rate`, else 70 % of the
 *              capacity) while the workers drain;
 *   burst      `burst` jobs as fast as the producer goes;
 *   drain      until every job started; then `tail` more sampling; then everything closes
 *              and the run's schema, keys or queues are removed.
 * From the start of the steady phase on, every `period` the parent collects each worker's
 * latency histogram and start count, the producer's enqueue count, a storage sample
 * (storage.ts) and each child's RSS (/proc). Writes bench/results/soak-<backend>[-scheduled][.short].json
 * and .png, prints each period, the verdicts (verdict.ts) and a summary row for the README.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { Histogram, type HistogramData } from "../realtime/histogram.js";
import { Peer } from "../realtime/ipc.js";
import { machineFacts } from "../lib/machine.js";
import { soakRuntime, type ChildParams } from "./job.js";
import { parseSoakArgs, type SoakOptions } from "./options.js";
import { renderPng } from "./png.js";
import { soakSvg } from "./plot.js";
import { summaryRow } from "./summary.js";
import { openStore, processRss, type Store } from "./storage.js";
import { latencyOf, verdictLine, verdicts, type Period, type Phase } from "./verdict.js";

const SELF = fileURLToPath(import.meta.url);
const HERE = dirname(SELF);
const RESULTS_DIR = join(resolve(HERE, "..", ".."), "results");
/** Scheduled jobs wait this long: far past any run. */
const SCHEDULED_WAIT_MS = 7 * 86_400_000;
/** How long a calibration drain or the final drain may take before the run gives up. */
const DRAIN_LIMIT_MS = 30 * 60_000;

const log = (message: string) => process.stderr.write(`${message}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The children of a run. */
interface Children {
  producer: Peer;
  workers: Peer[];
}

async function startChildren(store: Store, options: SoakOptions): Promise<Children> {
  const params: ChildParams = { adapter: store.adapter, queues: store.queues, concurrency: options.concurrency };
  const fork = (name: string, script: string) => new Peer(name, join(HERE, script), [JSON.stringify(params)]);
  const producer = fork("producer", "producer.js");
  const workers = [fork("worker 1", "worker.js"), fork("worker 2", "worker.js")];
  await Promise.all([producer, ...workers].map((peer) => peer.note("ready")));
  return { producer, workers };
}

/** Total jobs started in the workers so far, and the latest start's wall time. */
async function counts(workers: Peer[]): Promise<{ started: number; lastStartAt: number }> {
  const all = await Promise.all(workers.map((w) => w.call<{ started: number; lastStartAt: number }>("count")));
  return { started: all.reduce((n, c) => n + c.started, 0), lastStartAt: Math.max(...all.map((c) => c.lastStartAt)) };
}

/** Waits until the workers started `target` jobs in all; throws past `limitMs`. */
async function untilStarted(workers: Peer[], target: number, limitMs: number): Promise<{ started: number; lastStartAt: number }> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const now = await counts(workers);
    if (now.started >= target) return now;
    if (Date.now() > deadline) throw new Error(`only ${now.started} of ${target} jobs started within ${limitMs / 1000} s`);
    await sleep(100);
  }
}

/** The start times the workers kept since `record`, merged in order. */
async function timeline(workers: Peer[]): Promise<number[]> {
  return (await Promise.all(workers.map((w) => w.call<number[]>("timeline")))).flat().sort((a, b) => a - b);
}

/**
 * A calibration drain: `count` jobs enqueued with the workers idle, then both start;
 * resolves with jobs per second over the drain's second half (the middle job's start to
 * the last one's), which leaves out the workers' start-up and first, unoptimized jobs.
 * The workers keep working.
 */
async function calibrateDrain({ producer, workers }: Children, from: number, count: number): Promise<number> {
  // Idle workers: a drain before this one left them working.
  await Promise.all(workers.map((w) => w.call("stop")));
  const before = (await counts(workers)).started;
  await producer.call("bulk", { from, count });
  await Promise.all(workers.map((w) => w.call("record")));
  await Promise.all(workers.map((w) => w.call("start")));
  await untilStarted(workers, before + count, DRAIN_LIMIT_MS);
  const starts = await timeline(workers);
  const middle = Math.floor(starts.length / 2);
  return ((starts.length - 1 - middle) * 1000) / (starts.at(-1)! - starts[middle]!);
}

/**
 * The capacity: `count` jobs enqueued as fast as the producer goes while the workers work,
 * as in the soak but without a rate; resolves with jobs per second from the producer's
 * first batch to the last start. A pure drain overstates what the soak can sustain: there
 * the producer's enqueues compete with the workers for the same CPUs and store (on
 * PostgreSQL a pre-filled drain ran at tens of thousands a second, the bench's earlier
 * measure from the start call at 1,560).
 */
async function calibrateCapacity({ producer, workers }: Children, from: number, count: number): Promise<number> {
  const before = (await counts(workers)).started;
  await Promise.all(workers.map((w) => w.call("record")));
  const begin = performance.timeOrigin + performance.now();
  await producer.call("bulk", { from, count });
  await untilStarted(workers, before + count, DRAIN_LIMIT_MS);
  const starts = await timeline(workers);
  return (count * 1000) / (starts.at(-1)! - begin);
}

/** The soak itself, from the steady phase to the tail; the workers are working. */
async function soak(children: Children, store: Store, options: SoakOptions, from: number, rate: number, onPeriod: (p: Period, h: HistogramData) => void): Promise<void> {
  const { producer, workers } = children;
  // What the calibration left in the reports is not the soak's.
  await Promise.all([producer, ...workers].map((peer) => peer.call("report")));
  const total = options.jobs + options.burst;
  // Set by `driving` below as it goes on; read at each period.
  let phase = "steady" as Phase;
  let started = 0;
  let failure: Error | undefined;
  const begin = performance.now();
  let last = begin;
  let tailUntil = Infinity;

  const collect = async (): Promise<void> => {
    const [made, ...reports] = await Promise.all([producer.call<{ enqueued: number }>("report"), ...workers.map((w) => w.call<{ histogram: HistogramData; started: number }>("report"))]);
    const now = performance.now();
    const histogram = new Histogram();
    for (const report of reports) histogram.merge(report.histogram);
    const count = reports.reduce((n, r) => n + r.started, 0);
    started += count;
    const period: Period = {
      t: Math.round(now - begin) / 1000,
      phase,
      seconds: (now - last) / 1000,
      enqueued: made!.enqueued,
      started: count,
      latency: latencyOf(histogram),
      storage: await store.sample(),
      rss: { workers: workers.map((w) => processRss(w.pid)), producer: processRss(producer.pid) },
    };
    last = now;
    onPeriod(period, histogram.toJSON());
  };

  const driving = (async () => {
    await producer.call("steady", { from, count: options.jobs, rate, tickMs: options.tickMs });
    phase = "burst";
    if (options.burst > 0) await producer.call("bulk", { from: from + options.jobs, count: options.burst });
    phase = "drain";
  })().catch((error: Error) => {
    failure = error;
  });

  for (let k = 1; ; k++) {
    await sleep(Math.max(0, begin + k * options.periodMs - performance.now()));
    await collect();
    if (failure) throw failure;
    if (phase === "drain" && started >= total && tailUntil === Infinity) {
      phase = "tail";
      tailUntil = performance.now() + options.tailMs;
    }
    if (performance.now() >= tailUntil) break;
    if (performance.now() - begin > (options.jobs / rate) * 1000 + DRAIN_LIMIT_MS) throw new Error(`only ${started} of ${total} jobs started ${DRAIN_LIMIT_MS / 60_000} min after the steady phase should have ended`);
  }
  await driving;
}

/** bench/results/soak-<backend>[-scheduled][.short] */
function resultsBase(options: SoakOptions): string {
  return join(RESULTS_DIR, `soak-${options.backend}${options.scheduled > 0 ? "-scheduled" : ""}${options.short ? ".short" : ""}`);
}

async function main(options: SoakOptions): Promise<void> {
  const began = performance.now();
  const store = await openStore(options.backend, { retentionMs: options.retentionMs, maxFinished: options.maxFinished, retentionCheckMs: options.retentionCheckMs }, { vacuumMs: options.vacuumMs });
  let children: Children | undefined;
  try {
    // Migrations once, here, before any child uses the store.
    const runtime = soakRuntime({ adapter: store.adapter, queues: store.queues, concurrency: 1 });
    await (await runtime.adapterFor()).migrate();
    await runtime.close();
    children = await startChildren(store, options);
    log(`soak on ${options.backend}: ${JSON.stringify({ ...store.shown, ...store.facts() })}`);

    let next = 0;
    let drain: { baseline: number; withBacklog: number } | undefined;
    let capacity: number | undefined;
    if (options.scheduled > 0) {
      // The baseline is then compared with a drain on a table that has seen jobs: so is it.
      const warm = await calibrateDrain(children, next, options.calibration);
      next += options.calibration;
      log(`warm-up drain: ${options.calibration} ready jobs at ${warm.toFixed(0)} jobs/s`);
    }
    const drainRate = await calibrateDrain(children, next, options.calibration);
    next += options.calibration;
    log(`calibration: ${options.calibration} ready jobs drained at ${drainRate.toFixed(0)} jobs/s (second half)`);
    if (options.scheduled > 0) {
      await Promise.all(children.workers.map((w) => w.call("stop")));
      const t = performance.now();
      await children.producer.call("bulk", { from: next, count: options.scheduled, waitMs: SCHEDULED_WAIT_MS });
      next += options.scheduled;
      log(`scheduled backlog: ${options.scheduled} jobs a week ahead, enqueued in ${((performance.now() - t) / 1000).toFixed(0)} s`);
      const withBacklog = await calibrateDrain(children, next, options.calibration);
      next += options.calibration;
      log(`calibration with the backlog: ${withBacklog.toFixed(0)} jobs/s`);
      drain = { baseline: drainRate, withBacklog };
    }
    if (options.rate === undefined) {
      capacity = await calibrateCapacity(children, next, options.calibration);
      next += options.calibration;
      log(`capacity: ${options.calibration} jobs enqueued while the workers drain, through at ${capacity.toFixed(0)} jobs/s`);
    }
    const rate = options.rate ?? options.rateShare * capacity!;
    if (options.steadyMs !== undefined) options = { ...options, jobs: Math.max(1, Math.round((rate * options.steadyMs) / 1000)) };
    log(`steady phase: ${options.jobs} jobs at ${rate.toFixed(0)} jobs/s (~${(options.jobs / rate).toFixed(0)} s), then a burst of ${options.burst}`);

    const periods: Period[] = [];
    const histograms: HistogramData[] = [];
    await soak(children, store, options, next, rate, (period, histogram) => {
      periods.push(period);
      histograms.push(histogram);
      const l = period.latency;
      log(
        `${period.t.toFixed(0).padStart(6)} s ${period.phase.padEnd(6)} in ${(period.enqueued / period.seconds).toFixed(0).padStart(6)}/s out ${(period.started / period.seconds).toFixed(0).padStart(6)}/s` +
          `  p50 ${l.p50.toFixed(1)} p99 ${l.p99.toFixed(1)} ms  storage ${(period.storage.bytes / 2 ** 20).toFixed(1)} MB  rss ${period.rss.workers.map((b) => (b / 2 ** 20).toFixed(0)).join("/")} MB`,
      );
    });

    const settleMs = options.backend === "sqs" ? 0 : options.retentionMs + options.retentionCheckMs;
    const judged = verdicts({ periods, histograms, periodMs: options.periodMs, settleMs, drain });
    console.log("");
    for (const v of judged) console.log(verdictLine(v));
    const summary = summaryRow(options, rate, periods, judged);
    console.log(`\n${summary.header}\n${summary.row}`);

    const base = resultsBase(options);
    await mkdir(RESULTS_DIR, { recursive: true });
    const report = {
      ...machineFacts(),
      backend: options.backend,
      settings: { ...options, adapter: store.shown, workers: 2 },
      storageFigure: store.bytesLabel,
      store: store.facts(),
      calibration: { jobs: options.calibration, drainRate, capacity: capacity ?? null },
      scheduledDrain: drain ?? null,
      rate,
      durationSeconds: Math.round((performance.now() - began) / 1000),
      verdicts: judged,
      summary,
      periods,
    };
    await writeFile(`${base}.json`, `${JSON.stringify(report, null, 1)}\n`);
    const title = `Errand soak on ${options.backend}: ${options.jobs.toLocaleString("en-US")} jobs at ${rate.toFixed(0)}/s, burst ${options.burst.toLocaleString("en-US")}${options.scheduled ? `, ${options.scheduled.toLocaleString("en-US")} scheduled` : ""}`;
    await renderPng(soakSvg(title, periods, store.bytesLabel), `${base}.png`);
    log(`wrote ${relative(process.cwd(), base)}.json and .png`);
  } finally {
    if (children) await Promise.all([children.producer, ...children.workers].map(async (peer) => {
      await peer.call("close").catch(() => undefined);
      await peer.exit();
    }));
    await store.close();
  }
}

if (process.argv[1] === SELF) await main(parseSoakArgs(process.argv.slice(2)));
