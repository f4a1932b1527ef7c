/**
 * Queue counts as the dashboard shows them: read once (with an hour of throughput when the
 * backend keeps it), and turned into the rows the overview renders and the live feed sends,
 * formatted on the server so the page script only copies text into cells.
 *
 * @module
 */
import type { AdapterCapabilities, QueueInfo } from "@errand/core/adapter";

import { throughputChart } from "./chart.js";
import type { Backend } from "./context.js";
import { count, duration } from "./format.js";

/** Minutes of throughput the overview charts. */
export const THROUGHPUT_MINUTES = 60;

/** The count columns, in the order the overview shows them. */
export const COUNT_STATES = ["queued", "scheduled", "running", "retrying", "dead", "succeeded", "failed"] as const;

/** One count column's state. */
export type CountState = (typeof COUNT_STATES)[number];

/** One queue's row, formatted. */
export interface QueueRow {
  name: string;
  paused: boolean;
  /** Counts by state; `undefined` when the backend does not count that state. */
  counts: Partial<Record<CountState, number>>;
  /** `"1.2 s"`, or `"–"` when unknown. */
  latency: string;
  /** The throughput chart's SVG, or `""` when the backend keeps none. */
  chart: string;
}

/** What one read of the queues gives the overview and the live feed. */
export interface QueueSnapshot {
  rows: QueueRow[];
  /** Sum of each state over every queue. */
  totals: Partial<Record<CountState, number>>;
  /** Changes when a queue appears, goes, or is paused or resumed (the page then refreshes its table). */
  signature: string;
}

/** Reads every queue's counts (with throughput when the backend has `control`). */
export async function readQueues(backend: Backend, capabilities: AdapterCapabilities): Promise<QueueInfo[]> {
  return backend.queues.list(capabilities.control ? { throughputMinutes: THROUGHPUT_MINUTES } : {});
}

/** Formats queues into rows, sorted by name. */
export function queueSnapshot(queues: readonly QueueInfo[]): QueueSnapshot {
  const rows = [...queues]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((queue): QueueRow => {
      const counts: Partial<Record<CountState, number>> = {};
      for (const state of COUNT_STATES) {
        const value = queue[state];
        if (typeof value === "number") counts[state] = value;
      }
      return {
        name: queue.name,
        paused: queue.paused === true,
        counts,
        latency: queue.latencyMs === undefined ? "–" : queue.latencyMs === 0 ? "0" : duration(queue.latencyMs),
        chart: queue.throughput ? throughputChart(queue.name, queue.throughput) : "",
      };
    });
  const totals: Partial<Record<CountState, number>> = {};
  for (const state of COUNT_STATES) {
    if (rows.some((row) => row.counts[state] !== undefined)) totals[state] = rows.reduce((sum, row) => sum + (row.counts[state] ?? 0), 0);
  }
  return { rows, totals, signature: JSON.stringify(rows.map((row) => [row.name, row.paused])) };
}

/** The live feed's event data: counts as display text, keyed for the page script. */
export function snapshotEvent(snapshot: QueueSnapshot): string {
  return JSON.stringify({
    signature: snapshot.signature,
    rows: snapshot.rows.map((row) => ({
      name: row.name,
      counts: Object.fromEntries(Object.entries(row.counts).map(([state, value]) => [state, count(value)])),
      raw: row.counts,
      latency: row.latency,
      chart: row.chart,
    })),
    totals: Object.fromEntries(Object.entries(snapshot.totals).map(([state, value]) => [state, count(value)])),
  });
}
