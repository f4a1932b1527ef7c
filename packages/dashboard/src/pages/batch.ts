/**
 * One batch (`batch(...)` in core, `capabilities.batches`): its state, its counts as a
 * stacked progress bar, its callbacks linked to their job pages once enqueued, and its
 * times. Live: the page follows the shared queue-count feed (`<base>/live/queues`, one poll
 * for every open page) and, on each change there, fetches itself again; the page script
 * swaps it in only when the batch's signature (`data-batch-signature`: state, counts,
 * callback ids) changed, so an idle batch costs one page read per queue change per viewer.
 *
 * @module
 */
import type { BatchCallbackKind, BatchRecord } from "@errand/core";

import type { PageContext } from "../context.js";
import { count, shortId, time } from "../format.js";
import { html, type Html } from "../html.js";
import type { PageContent } from "../layout.js";

/** The callbacks in the order shown, with the option that gives each. */
const CALLBACKS: [BatchCallbackKind, string][] = [
  ["success", "onSuccess"],
  ["complete", "onComplete"],
  ["failure", "onFailure"],
];

/** The option name of a callback kind (`onSuccess`), for the job page too. */
export function callbackOption(kind: BatchCallbackKind): string {
  return CALLBACKS.find(([known]) => known === kind)?.[1] ?? kind;
}

/** What changes on the page when the batch moves: the page script compares it. */
export function batchSignature(record: BatchRecord): string {
  const callbacks = CALLBACKS.map(([kind]) => record.enqueuedCallbacks[kind] ?? "").join(",");
  return [record.state, record.total, record.pending, record.succeeded, record.discarded, record.dead, record.failed, callbacks].join("|");
}

/** Renders batch `id`, or a 404 page when the backend does not know it. */
export async function batchPage(ctx: PageContext, id: string): Promise<PageContent> {
  const { name, capabilities } = await ctx.backend.describe();
  if (!capabilities.batches) {
    return { title: "Batch", section: "jobs", status: 501, body: html`<h1>Batch ${id}</h1><p class="note">The ${name} backend does not support batches (capability batches).</p>` };
  }
  const record = await ctx.backend.batch(id);
  if (!record) {
    return { title: "No such batch", section: "jobs", status: 404, body: html`<h1>No such batch</h1><p>No batch with id <code>${id}</code>: unknown, or its record expired.</p>` };
  }
  const finished = record.succeeded + record.discarded + record.dead;
  const body = html`<h1>Batch${record.description ? html` <span class="job-class">${record.description}</span>` : ""} <span class="badge ${stateClass(record)}" data-batch-state>${record.state}</span></h1>
<p class="muted"><code>${record.id}</code></p>
<section aria-labelledby="progress-title" data-batch-signature="${batchSignature(record)}">
<h2 id="progress-title">Progress</h2>
${progressBar(record)}
<p>${count(finished)} of ${count(record.total)} jobs finished${record.state === "open" ? " (still being enqueued)" : ""}.</p>
<dl class="details">
<dt>Pending</dt><dd>${count(record.pending)}</dd>
<dt>Succeeded</dt><dd>${count(record.succeeded)}</dd>
<dt>Discarded</dt><dd>${count(record.discarded)}</dd>
<dt>Dead</dt><dd>${count(record.dead)}</dd>
<dt>Failed runs, retried</dt><dd>${count(record.failed)}</dd>
<dt>Created</dt><dd>${time(new Date(record.createdAt))}</dd>
<dt>Finished</dt><dd>${time(record.finishedAt ? new Date(record.finishedAt) : null)}</dd>
</dl>
</section>
${callbacksSection(ctx, record)}`;
  return { title: `Batch ${record.id}`, section: "jobs", data: { live: "batch", "batch-id": record.id }, body };
}

function stateClass(record: BatchRecord): string {
  if (record.state === "open") return "state-scheduled";
  if (record.state === "running") return "state-running";
  return record.discarded + record.dead > 0 ? "state-failed" : "state-succeeded";
}

/** The counts as one stacked bar (SVG: the page's CSP allows no inline style), with its text alternative. */
function progressBar(record: BatchRecord): Html {
  const parts: [string, number][] = [
    ["ok", record.succeeded],
    ["discarded", record.discarded],
    ["bad", record.dead],
  ];
  const total = Math.max(record.total, 1);
  let x = 0;
  const rects = parts.map(([kind, value]) => {
    const width = (value / total) * 1000;
    const rect = width > 0 ? html`<rect class="${kind}" x="${x.toFixed(1)}" y="0" width="${width.toFixed(1)}" height="10"/>` : "";
    x += width;
    return rect;
  });
  const label = `${count(record.succeeded)} succeeded, ${count(record.discarded)} discarded, ${count(record.dead)} dead, ${count(record.pending)} pending of ${count(record.total)}`;
  return html`<svg class="batch-bar" viewBox="0 0 1000 10" preserveAspectRatio="none" role="img" aria-label="${label}"><title>${label}</title><rect class="pending" x="0" y="0" width="1000" height="10"/>${rects}</svg>`;
}

function callbacksSection(ctx: PageContext, record: BatchRecord): Html {
  const given = CALLBACKS.filter(([kind]) => record.callbacks[kind]);
  if (given.length === 0) return html`<section aria-labelledby="callbacks-title"><h2 id="callbacks-title">Callbacks</h2><p class="empty">This batch was given no callbacks.</p></section>`;
  const rows = given.map(([kind, option]) => {
    const jobId = record.enqueuedCallbacks[kind];
    const where = jobId
      ? html`<a href="${ctx.base}/jobs/${encodeURIComponent(jobId)}">job ${shortId(jobId)}</a>`
      : html`<span class="muted">${record.state === "finished" ? notApplying(kind) : "enqueued when every job has finished"}</span>`;
    return html`<tr><th scope="row"><code>${option}</code></th><td>${where}</td></tr>`;
  });
  return html`<section aria-labelledby="callbacks-title"><h2 id="callbacks-title">Callbacks</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">Callback</th><th scope="col">Job</th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

function notApplying(kind: BatchCallbackKind): string {
  if (kind === "success") return "not enqueued: the batch has discarded or dead jobs (a dead job retried to success enqueues it)";
  if (kind === "failure") return "not enqueued: no job of the batch was discarded or dead";
  return "not enqueued";
}
