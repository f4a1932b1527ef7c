/**
 * The soak's figure as an SVG, hand-rolled: four panels over the run's time — enqueue →
 * start latency p50/p99 (log scale), throughput (enqueued and started per second), storage,
 * and each process's RSS — with the burst, drain and tail phases shaded. png.ts turns it
 * into the PNG committed under bench/results/.
 */
import type { Period } from "./verdict.js";

const WIDTH = 1200;
const HEIGHT = 860;
const PANEL_W = 600;
const PANEL_H = 400;
const TOP = 50;
const MARGIN = { left: 70, right: 20, top: 34, bottom: 40 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"];

/** One line of a panel. */
interface Series {
  name: string;
  values: number[];
}

/** A panel: where it goes, its series, and its y scale. */
interface Panel {
  title: string;
  unit: string;
  log: boolean;
  series: Series[];
}

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Round tick values covering [low, high]: 1, 2 or 5 × 10^k apart, about `count` of them. */
export function niceTicks(low: number, high: number, count = 5): number[] {
  if (!(high > low)) return [low];
  const raw = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const label = (v: number) => (Math.abs(v) >= 1000 ? v.toLocaleString("en-US") : String(Number(v.toPrecision(3))));

function panelSvg(panel: Panel, x0: number, y0: number, times: number[], phases: Period["phase"][]): string {
  const w = PANEL_W - MARGIN.left - MARGIN.right;
  const h = PANEL_H - MARGIN.top - MARGIN.bottom;
  const left = x0 + MARGIN.left;
  const top = y0 + MARGIN.top;
  const tMax = Math.max(1, ...times);
  const sx = (t: number) => left + (t / tMax) * w;
  const finite = panel.series.flatMap((s) => s.values).filter((v) => Number.isFinite(v) && (!panel.log || v > 0));
  let low = panel.log ? Math.min(...finite, 1) : 0;
  let high = Math.max(...finite, panel.log ? 10 : 1);
  if (panel.log) {
    low = 10 ** Math.floor(Math.log10(low));
    high = 10 ** Math.ceil(Math.log10(high));
  } else {
    // The top tick at or above the highest value.
    const ticks = niceTicks(0, high);
    const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : high;
    high = Math.ceil((high * 1.02) / step) * step;
  }
  const f = (v: number) => (panel.log ? Math.log10(v) : v);
  const sy = (v: number) => top + h - ((f(v) - f(low)) / (f(high) - f(low) || 1)) * h;
  const clip = `clip${x0}-${y0}`;
  const parts: string[] = [`<clipPath id="${clip}"><rect x="${left}" y="${top}" width="${w}" height="${h}"/></clipPath>`];
  // Phases after the steady one, shaded, each labelled once.
  let from = 0;
  for (let i = 0; i <= phases.length; i++) {
    if (i === phases.length || phases[i] !== phases[from]) {
      if (phases[from] !== "steady") {
        const a = sx(from === 0 ? 0 : times[from - 1]!);
        const b = sx(times[i - 1]!);
        const shade = { burst: "#fde0c5", drain: "#fdf0d5", tail: "#eeeeee", steady: "none" }[phases[from]!];
        parts.push(`<rect x="${a}" y="${top}" width="${Math.max(1, b - a)}" height="${h}" fill="${shade}"/>`);
        if (b - a >= 34) parts.push(`<text x="${a + 3}" y="${top + h - 6}" font-size="11" fill="#888">${phases[from]}</text>`);
      }
      from = i;
    }
  }
  const yTicks = panel.log ? Array.from({ length: Math.round(Math.log10(high / low)) + 1 }, (_, k) => low * 10 ** k) : niceTicks(0, high);
  for (const v of yTicks) {
    parts.push(`<line x1="${left}" x2="${left + w}" y1="${sy(v)}" y2="${sy(v)}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${left - 6}" y="${sy(v) + 4}" font-size="11" text-anchor="end">${label(v)}</text>`);
  }
  for (const t of niceTicks(0, tMax, 8)) {
    parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${top + h}" y2="${top + h + 4}" stroke="#444"/>`);
    parts.push(`<text x="${sx(t)}" y="${top + h + 16}" font-size="11" text-anchor="middle">${label(t)}</text>`);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#444"/>`);
  parts.push(`<text x="${left}" y="${y0 + 22}" font-size="14" font-weight="bold">${escape(panel.title)}</text>`);
  parts.push(`<text x="${left + w / 2}" y="${top + h + 32}" font-size="11" text-anchor="middle">seconds since the steady phase began</text>`);
  parts.push(`<text transform="translate(${x0 + 16} ${top + h / 2}) rotate(-90)" font-size="11" text-anchor="middle">${escape(panel.unit)}</text>`);
  panel.series.forEach((series, k) => {
    const color = COLORS[k % COLORS.length]!;
    // A gap (no value, or ≤ 0 on a log scale) breaks the line.
    let path = "";
    let pen = false;
    series.values.forEach((v, i) => {
      if (!Number.isFinite(v) || (panel.log && v <= 0)) {
        pen = false;
        return;
      }
      path += `${pen ? "L" : "M"}${sx(times[i]!).toFixed(1)},${sy(v).toFixed(1)}`;
      pen = true;
    });
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="1.6" clip-path="url(#${clip})"/>`);
    const lx = left + w - 150;
    const ly = top + 16 + k * 15;
    parts.push(`<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${lx + 22}" y="${ly}" font-size="11">${escape(series.name)}</text>`);
  });
  return parts.join("\n");
}

/** The run's figure: `title` on top, the four panels below. */
export function soakSvg(title: string, periods: Period[], storageLabel: string): string {
  const times = periods.map((p) => p.t);
  const phases = periods.map((p) => p.phase);
  const perS = (read: (p: Period) => number) => periods.map((p) => read(p) / p.seconds);
  const mb = (bytes: number) => bytes / 2 ** 20;
  const workers = periods[0]?.rss.workers.length ?? 0;
  const panels: Panel[] = [
    { title: "Enqueue → start latency", unit: "ms (log)", log: true, series: [{ name: "p50", values: periods.map((p) => p.latency.p50) }, { name: "p99", values: periods.map((p) => p.latency.p99) }] },
    { title: "Throughput", unit: "jobs / s", log: false, series: [{ name: "enqueued", values: perS((p) => p.enqueued) }, { name: "started", values: perS((p) => p.started) }] },
    { title: storageLabel, unit: "MB", log: false, series: [{ name: "storage", values: periods.map((p) => mb(p.storage.bytes)) }] },
    {
      title: "RSS per process",
      unit: "MB",
      log: false,
      series: [...Array.from({ length: workers }, (_, w) => ({ name: `worker ${w + 1}`, values: periods.map((p) => mb(p.rss.workers[w]!)) })), { name: "producer", values: periods.map((p) => mb(p.rss.producer)) }],
    },
  ];
  const body = panels.map((panel, i) => panelSvg(panel, (i % 2) * PANEL_W, TOP + Math.floor(i / 2) * PANEL_H, times, phases)).join("\n");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="DejaVu Sans, Arial, sans-serif">\n` +
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>\n<text x="20" y="30" font-size="17" font-weight="bold">${escape(title)}</text>\n${body}\n</svg>\n`
  );
}

/** The size the SVG is drawn at, for the PNG's viewport. */
export const SVG_SIZE = { width: WIDTH, height: HEIGHT };
