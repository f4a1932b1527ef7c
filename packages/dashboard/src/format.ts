/**
 * How numbers, times and durations read on the dashboard's pages. Times are shown in UTC
 * with a `<time datetime>` element (the page script shows them in the viewer's zone and as
 * "3 min ago"); without script they read the same everywhere.
 *
 * @module
 */
import { html, type Html } from "./html.js";

/** `12,345`. */
export function count(value: number | undefined): string {
  return value === undefined ? "–" : value.toLocaleString("en-US");
}

/** A duration in ms as `850 ms`, `12.3 s`, `4 min 5 s`, `3 h 2 min`, `2 d 4 h`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  const abs = Math.abs(ms);
  const sign = ms < 0 ? "-" : "";
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(abs < 10_000 ? 2 : 1)} s`;
  const s = Math.floor(abs / 1000);
  if (s < 3600) return `${sign}${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
  if (s < 86_400) return `${sign}${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ""}`;
  return `${sign}${Math.floor(s / 86_400)} d${Math.floor((s % 86_400) / 3600) ? ` ${Math.floor((s % 86_400) / 3600)} h` : ""}`;
}

/** `2026-12-03 22:37:29 UTC`. */
export function utc(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** "in 5 min" / "5 min ago" relative to `now`. */
export function relative(date: Date, now = Date.now()): string {
  const delta = date.getTime() - now;
  if (Math.abs(delta) < 1000) return "now";
  return delta > 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`;
}

/** A `<time>` element: UTC text, the exact instant in `datetime`, relative time as its title. */
export function time(date: Date | null | undefined): Html {
  if (!date) return html`<span class="muted">–</span>`;
  return html`<time datetime="${date.toISOString()}" title="${relative(date)}">${utc(date)}</time>`;
}

/** A short id for tables: the first 8 characters, the full id in the title. */
export function shortId(id: string): Html {
  return html`<code title="${id}">${id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id}</code>`;
}

/** Pretty JSON for display (2 spaces), or the value's string when it is not serializable. */
export function prettyJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? "undefined";
  } catch {
    return String(value);
  }
}

/** One-line JSON, cut to `max` characters with an ellipsis. */
export function briefJson(value: unknown, max = 80): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? "undefined";
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
