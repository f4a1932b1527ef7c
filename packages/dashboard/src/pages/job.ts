/**
 * One job: its state and progress, arguments (redacted), result, error with stack, every
 * earlier attempt's times (from the payload's `attempts`), a timeline, and the actions its
 * state allows. Live: the page script follows the job's status stream (core's status
 * handler, mounted at `<base>/status/:id/events`) and refreshes the page body when the
 * state changes.
 *
 * @module
 */
import type { JobView } from "@errand/core";

import { argumentsView } from "../args-view.js";
import type { PageContext } from "../context.js";
import { buttonForm } from "../forms.js";
import { duration, prettyJson, shortId, time } from "../format.js";
import { html, type Html } from "../html.js";
import { ACTIONS, needsControl, STATE_ACTIONS } from "../job-actions.js";
import type { PageContent } from "../layout.js";
import { callbackOption } from "./batch.js";

/** Renders job `id`, or a 404 page when the backend does not know it. */
export async function jobPage(ctx: PageContext, id: string): Promise<PageContent> {
  const { name, capabilities } = await ctx.backend.describe();
  if (!capabilities.listJobs) {
    return { title: "Job", section: "jobs", status: 501, body: html`<h1>Job ${id}</h1><p class="note">The ${name} backend does not list jobs yet (capability listJobs).</p>` };
  }
  const job = await ctx.backend.jobs.get(id);
  if (!job) {
    return { title: "No such job", section: "jobs", status: 404, body: html`<h1>No such job</h1><p>No job with id <code>${id}</code>: unknown, or its status expired.</p>` };
  }
  const actions = (STATE_ACTIONS[job.state] ?? []).filter((action) => !ctx.readOnly && (capabilities.control || !needsControl(job.state, action)));
  const buttons = actions.map((action) =>
    buttonForm(ctx, {
      path: "/actions/jobs",
      fields: { action, state: job.state, ids: job.id },
      label: ACTIONS[action].label,
      ...(ACTIONS[action].destructive ? { confirm: `${ACTIONS[action].label} job ${job.id}? It will ${ACTIONS[action].effect}.`, danger: true } : {}),
    }),
  );
  const fraction = job.progress?.fraction ?? 0;
  const body = html`<h1><span class="job-class">${job.job}</span> <span class="badge state-${job.state}" data-job-state>${job.state}</span></h1>
<p class="muted"><code>${job.id}</code></p>
${buttons.length ? html`<div class="actions" role="group" aria-label="Actions on this job">${buttons}</div>` : ""}
<section aria-labelledby="progress-title">
<h2 id="progress-title">Progress</h2>
<p><progress max="1" value="${fraction}" data-progress aria-labelledby="progress-title">${Math.round(fraction * 100)}%</progress> <span data-progress-text>${Math.round(fraction * 100)}%</span> <span data-progress-message>${job.progress?.message ?? ""}</span></p>
</section>
<section aria-labelledby="details-title">
<h2 id="details-title">Details</h2>
<dl class="details">
${batchDetail(ctx, job)}<dt>Queue</dt><dd>${job.queue}</dd>
<dt>Priority</dt><dd>${job.priority}</dd>
<dt>Runs started</dt><dd>${job.executions}</dd>
<dt>Enqueued</dt><dd>${time(job.enqueuedAt)}</dd>
<dt>${job.state === "scheduled" || job.state === "retrying" ? "Runs at" : "Due"}</dt><dd>${time(job.scheduledAt)}</dd>
<dt>Started</dt><dd>${time(job.startedAt)}</dd>
<dt>Finished</dt><dd>${time(job.finishedAt)}</dd>
<dt>Updated</dt><dd>${time(job.updatedAt)}</dd>
</dl>
</section>
${argumentsSection(ctx, job)}
${job.result !== undefined && job.result !== null ? html`<section aria-labelledby="result-title"><h2 id="result-title">Result</h2><pre class="json">${prettyJson(displayValue(job.result))}</pre></section>` : ""}
${job.error ? errorSection(job) : ""}
${attemptsSection(job)}
${timelineSection(job)}`;
  return { title: `${job.job} ${job.id}`, section: "jobs", data: { live: "job", "job-id": job.id, state: job.state }, body };
}

/** The batch the job belongs to, or of which it is a callback, linked to the batch's page. */
function batchDetail(ctx: PageContext, job: JobView): Html | string {
  const membership = job.payload?.batch;
  if (!membership) return "";
  const link = html`<a href="${ctx.base}/batches/${encodeURIComponent(membership.id)}" data-batch-link>${shortId(membership.id)}</a>`;
  return membership.callback
    ? html`<dt>Batch</dt><dd><code>${callbackOption(membership.callback)}</code> callback of batch ${link}</dd>\n`
    : html`<dt>Batch</dt><dd>${link}</dd>\n`;
}

function argumentsSection(ctx: PageContext, job: JobView): Html {
  const args = argumentsView(job, ctx.redact);
  const content =
    args.kind === "args"
      ? html`<pre class="json">${prettyJson(args.value)}</pre>`
      : args.kind === "raw"
        ? html`<p class="note">The stored payload is not valid wire format; its text as stored:</p><pre class="json">${args.text}</pre>`
        : args.kind === "hidden"
          ? html`<p class="note">Hidden: ${args.reason}.</p>`
          : html`<p class="muted">The backend no longer holds this job's payload.</p>`;
  return html`<section aria-labelledby="args-title"><h2 id="args-title">Arguments</h2>${content}</section>`;
}

function errorSection(job: JobView): Html {
  const error = job.error!;
  return html`<section aria-labelledby="error-title"><h2 id="error-title">${job.state === "succeeded" ? "Last error" : "Error"}</h2>
<p><strong class="error-name">${error.name}</strong>${error.code ? html` <code>${error.code}</code>` : ""}: ${error.message}</p>
${error.stack ? html`<details open><summary>Stack</summary><pre class="stack">${error.stack}</pre></details>` : ""}
</section>`;
}

function attemptsSection(job: JobView): Html {
  if (job.attempts.length === 0) return html``;
  const rows = job.attempts.map((attempt, index) => {
    const started = new Date(attempt.startedAt);
    const finished = new Date(attempt.finishedAt);
    return html`<tr><th scope="row">${index + 1}</th><td>${time(started)}</td><td>${time(finished)}</td><td class="num">${duration(finished.getTime() - started.getTime())}</td><td><span class="error-name">${attempt.error.name}</span>: ${attempt.error.message}</td></tr>`;
  });
  return html`<section aria-labelledby="attempts-title"><h2 id="attempts-title">Attempts that failed</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">#</th><th scope="col">Started</th><th scope="col">Ended</th><th scope="col" class="num">Took</th><th scope="col">Error</th></tr></thead><tbody>${rows}</tbody></table></div></section>`;
}

function timelineSection(job: JobView): Html {
  const events: { at: Date; text: Html | string }[] = [{ at: job.enqueuedAt, text: "Enqueued" }];
  if (job.scheduledAt.getTime() > job.enqueuedAt.getTime() + 1000 && job.attempts.length === 0) events.push({ at: job.scheduledAt, text: "Due" });
  job.attempts.forEach((attempt, index) => {
    events.push({ at: new Date(attempt.startedAt), text: `Attempt ${index + 1} started` });
    events.push({ at: new Date(attempt.finishedAt), text: html`Attempt ${index + 1} failed: <span class="error-name">${attempt.error.name}</span>` });
  });
  if (job.state === "retrying" || (job.state === "scheduled" && job.attempts.length > 0)) events.push({ at: job.scheduledAt, text: "Retry due" });
  // The latest run, unless `attempts` already holds it (a run that ended in a retry or in the dead set is there).
  if (job.startedAt && job.attempts.length < job.executions) events.push({ at: job.startedAt, text: job.executions > 1 ? `Attempt ${job.executions} started` : "Started" });
  if (job.finishedAt) events.push({ at: job.finishedAt, text: html`Ended <span class="badge state-${job.state}">${job.state}</span>` });
  events.sort((a, b) => a.at.getTime() - b.at.getTime());
  return html`<section aria-labelledby="timeline-title"><h2 id="timeline-title">Timeline</h2>
<ol class="timeline">${events.map((event) => html`<li>${time(event.at)} ${event.text}</li>`)}</ol></section>`;
}

/** A result made JSON-friendly for display: Maps as objects (or entries), Sets as arrays, BigInts and Dates as text. */
export function displayValue(value: unknown, depth = 0): unknown {
  if (depth > 50) return "…";
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (value === undefined) return "undefined";
  if (value instanceof Map) return { "Map entries": [...value].map(([key, item]) => [displayValue(key, depth + 1), displayValue(item, depth + 1)]) };
  if (value instanceof Set) return { Set: [...value].map((item) => displayValue(item, depth + 1)) };
  if (value instanceof Error) return { error: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((item) => displayValue(item, depth + 1));
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, displayValue(item, depth + 1)]));
  return value;
}
