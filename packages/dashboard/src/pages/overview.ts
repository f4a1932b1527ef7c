/**
 * The overview: every queue with its counts per state, latency (age of the oldest ready
 * job), the last hour's throughput as a chart, paused queues marked, and pause / resume.
 * Live: the page script follows the shared queue feed (`live.ts`) and copies each count
 * into its cell.
 *
 * @module
 */
import type { PageContext } from "../context.js";
import { buttonForm } from "../forms.js";
import { count } from "../format.js";
import { html, query, raw, type Html } from "../html.js";
import type { PageContent } from "../layout.js";
import { COUNT_STATES, queueSnapshot, readQueues, THROUGHPUT_MINUTES, type CountState, type QueueRow } from "../queue-counts.js";

const LABELS: Record<CountState, string> = {
  queued: "Queued",
  scheduled: "Scheduled",
  running: "Running",
  retrying: "Retrying",
  dead: "Dead",
  succeeded: "Succeeded",
  failed: "Failed",
};

/** Renders the overview. */
export async function overviewPage(ctx: PageContext): Promise<PageContent> {
  const { name, capabilities } = await ctx.backend.describe();
  const snapshot = queueSnapshot(await readQueues(ctx.backend, capabilities));
  const states = COUNT_STATES.filter((state) => snapshot.totals[state] !== undefined || !["succeeded", "failed"].includes(state));
  const actions = capabilities.control && !ctx.readOnly;

  const cell = (row: QueueRow, state: CountState): Html => {
    const value = row.counts[state];
    const text = count(value);
    const link = value === undefined || !capabilities.listJobs ? text : html`<a href="${ctx.base}/jobs${query({ state, queue: row.name })}" aria-label="${LABELS[state]} jobs of ${row.name}: ${text}">${text}</a>`;
    return html`<td class="num${value === 0 ? " zero" : ""}" data-count="${state}">${link}</td>`;
  };
  const rows = snapshot.rows.map(
    (row) => html`<tr data-queue="${row.name}"${row.paused ? html` class="paused"` : ""}>
<th scope="row">${row.name}${row.paused ? html` <span class="badge paused" title="Workers take no jobs from this queue">paused</span>` : ""}</th>
${states.map((state) => cell(row, state))}
<td class="num" data-latency>${row.latency}</td>
${capabilities.control ? html`<td class="chart-cell" data-chart>${raw(row.chart)}</td>` : ""}
${actions ? html`<td>${pauseButton(ctx, row)}</td>` : ""}
</tr>`,
  );
  const table = snapshot.rows.length
    ? html`<table class="queues" data-signature="${snapshot.signature}">
<caption>Queues, ${count(snapshot.rows.length)} in all${capabilities.control ? `; throughput over the last ${THROUGHPUT_MINUTES} minutes` : ""}</caption>
<thead><tr><th scope="col">Queue</th>${states.map((state) => html`<th scope="col" class="num">${LABELS[state]}</th>`)}<th scope="col" class="num" title="Age of the oldest job ready to run">Latency</th>${capabilities.control ? html`<th scope="col">Last hour</th>` : ""}${actions ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : ""}</tr></thead>
<tbody>${rows}</tbody>
<tfoot><tr><th scope="row">All queues</th>${states.map((state) => html`<td class="num" data-total="${state}">${count(snapshot.totals[state])}</td>`)}<td></td>${capabilities.control ? html`<td></td>` : ""}${actions ? html`<td></td>` : ""}</tr></tfoot>
</table>`
    : html`<p class="empty" data-signature="${snapshot.signature}">No queues yet: they appear with their first job.</p>`;

  const notes: string[] = [];
  if (!capabilities.listJobs) notes.push(`The ${name} backend does not list jobs yet (capability listJobs): succeeded, failed and latency are not shown, and counts do not link to jobs.`);
  if (!capabilities.control) notes.push(`The ${name} backend has no operator controls yet (capability control): no throughput, no pause.`);
  return {
    title: "Overview",
    section: "overview",
    data: { live: "queues" },
    body: html`<h1>Overview <small class="muted">${name} backend</small></h1>
${notes.map((note) => html`<p class="note">${note}</p>`)}
<div class="table-wrap">${table}</div>`,
  };
}

function pauseButton(ctx: PageContext, row: QueueRow): Html {
  return row.paused
    ? buttonForm(ctx, { path: "/actions/queues", fields: { action: "resume", queue: row.name }, label: "Resume", ariaLabel: `Resume queue ${row.name}` })
    : buttonForm(ctx, { path: "/actions/queues", fields: { action: "pause", queue: row.name }, label: "Pause", ariaLabel: `Pause queue ${row.name}` });
}
