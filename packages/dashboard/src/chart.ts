/**
 * The overview's throughput chart: runs finished per minute over the last hour, one bar per
 * minute (succeeded below, failed stacked above), as inline SVG built on the server — no
 * chart library, no script. Each series is one `<path>`, so an hour costs two elements.
 *
 * @module
 */
import type { QueueThroughput } from "@errand/core/adapter";

import { count } from "./format.js";
import { escapeHtml } from "./html.js";

const WIDTH = 180;
const HEIGHT = 36;

/** Total runs, and the busiest minute, of a throughput. */
export function throughputTotals(throughput: QueueThroughput): { succeeded: number; failed: number; peak: number } {
  let succeeded = 0;
  let failed = 0;
  let peak = 0;
  throughput.succeeded.forEach((ok, index) => {
    const bad = throughput.failed[index] ?? 0;
    succeeded += ok;
    failed += bad;
    peak = Math.max(peak, ok + bad);
  });
  return { succeeded, failed, peak };
}

/** The chart's markup (an `<svg role="img">` with its own text alternative). */
export function throughputChart(queue: string, throughput: QueueThroughput): string {
  const minutes = throughput.succeeded.length;
  const { succeeded, failed, peak } = throughputTotals(throughput);
  const label = `${queue}, last ${minutes} minutes: ${count(succeeded)} succeeded, ${count(failed)} failed; busiest minute ${count(peak)}`;
  const step = WIDTH / Math.max(minutes, 1);
  const bar = Math.max(step - 0.6, 0.5).toFixed(2);
  const scale = peak === 0 ? 0 : (HEIGHT - 2) / peak;
  let ok = "";
  let bad = "";
  for (let index = 0; index < minutes; index++) {
    const x = (index * step).toFixed(2);
    const okHeight = (throughput.succeeded[index] ?? 0) * scale;
    const badHeight = (throughput.failed[index] ?? 0) * scale;
    if (okHeight > 0) ok += `M${x} ${(HEIGHT - okHeight).toFixed(2)}h${bar}V${HEIGHT}h-${bar}z`;
    if (badHeight > 0) bad += `M${x} ${(HEIGHT - okHeight - badHeight).toFixed(2)}h${bar}v${badHeight.toFixed(2)}h-${bar}z`;
  }
  const text = escapeHtml(label);
  return (
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${text}"><title>${text}</title>` +
    `<path class="axis" d="M0 ${HEIGHT - 0.5}H${WIDTH}"/>` +
    (ok ? `<path class="ok" d="${ok}"/>` : "") +
    (bad ? `<path class="bad" d="${bad}"/>` : "") +
    `</svg>`
  );
}
