/**
 * The page shell every dashboard page shares: head (one stylesheet, one deferred module
 * script), a skip link, the navigation, the notice an action left, and `<main>`, which the
 * page script swaps in place when it refreshes a page without reloading it.
 *
 * @module
 */
import type { PageContext } from "./context.js";
import { count } from "./format.js";
import { html, type Html } from "./html.js";

/** The sections of the navigation. */
export type Section = "overview" | "jobs" | "recurring" | "workers";

/** What a page renders into the shell. */
export interface PageContent {
  /** The page's own title (before the dashboard's). */
  title: string;
  section: Section;
  body: Html;
  /** `data-*` attributes of `<body>` for the page script (`live`, `job-id`…). */
  data?: Record<string, string>;
  /** HTTP status; default 200. */
  status?: number;
}

/** Where the stylesheet and the script are served (content-hashed names). */
export interface AssetUrls {
  css: string;
  js: string;
}

const SECTIONS: [Section, string, string][] = [
  ["overview", "Overview", ""],
  ["jobs", "Jobs", "/jobs"],
  ["recurring", "Recurring", "/recurring"],
  ["workers", "Workers", "/workers"],
];

/** The whole document for `content`. */
export function renderPage(ctx: PageContext, assets: AssetUrls, content: PageContent): string {
  const data = Object.entries({ base: ctx.base, ...content.data }).map(([key, value]) => html` data-${key}="${value}"`);
  const nav = SECTIONS.map(
    ([section, label, path]) => html`<li><a href="${ctx.base}${path || "/"}"${section === content.section ? html` aria-current="page"` : ""}>${label}</a></li>`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${content.title} · ${ctx.title}</title>
<link rel="stylesheet" href="${assets.css}">
<script type="module" src="${assets.js}"></script>
</head>
<body${data}>
<a class="skip" href="#main">Skip to content</a>
<header>
<nav aria-label="Dashboard sections">
<a class="brand" href="${ctx.base}/">${ctx.title}</a>
<ul>${nav}</ul>
${ctx.readOnly ? html`<span class="badge" title="Actions are turned off (readOnly)">read-only</span>` : ""}
<span class="live" role="status" aria-live="polite" data-live-status></span>
</nav>
</header>
<main id="main" tabindex="-1">
${notice(ctx.url, ctx.base)}
${content.body}
</main>
</body>
</html>
`.text;
}

const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

/** The message an action's redirect asked for (`?notice=retried&n=3&of=3`), or nothing. */
export function notice(url: URL, base: string): Html {
  const params = url.searchParams;
  const kind = params.get("notice");
  if (!kind) return html``;
  const n = Number(params.get("n") ?? 0);
  const of = Number(params.get("of") ?? n);
  const jobs = plural(n, "job");
  const missed = of > n ? ` ${plural(of - n, "other")} had already moved on.` : "";
  const more = params.get("more") === "1" ? " More remain: run the action again to go on." : "";
  const messages: Record<string, string | Html> = {
    noneSelected: "Select one or more jobs first.",
    retried: `Retried ${jobs}.${missed}${more}`,
    discarded: `Discarded ${jobs}.${missed}${more}`,
    cancelled: `Cancelled ${jobs}.${missed}${more}`,
    ranNow: `${jobs} due now.${missed}${more}`,
    aborted: `Asked ${jobs} to abort: each stops within about a second.${missed}${more}`,
    interrupted: `Asked ${jobs} to stop and run again: each is handed back within about a second.${missed}${more}`,
    paused: `Paused queue ${params.get("subject") ?? ""}: workers stop taking from it within about a second.`,
    resumed: `Resumed queue ${params.get("subject") ?? ""}.`,
    enqueued: html`Enqueued ${params.get("subject") ?? "the task"} now: <a href="${base}/jobs/${encodeURIComponent(params.get("jobid") ?? "")}">job ${params.get("jobid") ?? ""}</a>.`,
  };
  const message = messages[kind];
  return message === undefined ? html`` : html`<p class="notice" role="status">${message}</p>`;
}
