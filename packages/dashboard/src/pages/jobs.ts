/**
 * Jobs by state: a tab per state with its count (live), filters (queue, job class, id),
 * a page of jobs at a time (cursor pagination, newest or soonest first as the backend
 * orders each state), and the state's actions on a selection or on every job matching the
 * filter.
 *
 * @module
 */
import type { JobState, JobView } from "@errand/core";

import { argumentsView } from "../args-view.js";
import type { PageContext } from "../context.js";
import { hiddenFields } from "../forms.js";
import { briefJson, count, shortId, time } from "../format.js";
import { html, query, type Html } from "../html.js";
import { ACTIONS, needsControl, STATE_ACTIONS } from "../job-actions.js";
import type { PageContent } from "../layout.js";
import { queueSnapshot, readQueues } from "../queue-counts.js";

/** The states, in the order of the tabs. */
export const JOB_STATES: readonly JobState[] = ["queued", "scheduled", "running", "retrying", "dead", "succeeded", "failed"];

const TITLES: Record<JobState, string> = {
  queued: "Queued",
  scheduled: "Scheduled",
  running: "Running",
  retrying: "Retrying",
  dead: "Dead",
  succeeded: "Succeeded",
  failed: "Failed",
};

/** The filters of a jobs page, from its query string. */
export interface JobFilter {
  state: JobState;
  queue?: string;
  job?: string;
  id?: string;
  cursor?: string;
}

/** Reads the filters; an unknown state is a 400 with the states there are. */
export function jobFilter(url: URL): JobFilter | string {
  const params = url.searchParams;
  const state = (params.get("state") ?? "queued") as JobState;
  if (!JOB_STATES.includes(state)) return `unknown state ${JSON.stringify(state)}; the states are ${JOB_STATES.join(", ")}`;
  const filter: JobFilter = { state };
  for (const key of ["queue", "job", "id", "cursor"] as const) {
    const value = params.get(key)?.trim();
    if (value) filter[key] = value;
  }
  return filter;
}

/** The time that matters for a job in a state, with its column title. */
function when(state: JobState): [string, (job: JobView) => Date | null] {
  switch (state) {
    case "queued":
      return ["Ready since", (job) => job.scheduledAt];
    case "scheduled":
    case "retrying":
      return ["Runs at", (job) => job.scheduledAt];
    case "running":
      return ["Started", (job) => job.startedAt];
    default:
      return ["Finished", (job) => job.finishedAt];
  }
}

/** Renders one state's jobs. */
export async function jobsPage(ctx: PageContext, filter: JobFilter): Promise<PageContent> {
  const { name, capabilities } = await ctx.backend.describe();
  const snapshot = queueSnapshot(await readQueues(ctx.backend, capabilities));
  const counts = filter.queue ? snapshot.rows.find((row) => row.name === filter.queue)?.counts ?? {} : snapshot.totals;
  const base = { queue: filter.queue, job: filter.job };
  const tabs = JOB_STATES.map(
    (state) =>
      html`<li><a href="${ctx.base}/jobs${query({ state, ...base })}"${state === filter.state ? html` aria-current="page"` : ""}>${TITLES[state]} <span class="count" data-total="${state}">${count(counts[state])}</span></a></li>`,
  );
  const header = html`<h1>${TITLES[filter.state]} jobs</h1>
<nav aria-label="Job states"><ul class="tabs">${tabs}</ul></nav>
${filterForm(ctx, filter, snapshot.rows.map((row) => row.name))}`;
  const data = { live: "queues", ...(filter.queue ? { queue: filter.queue } : {}) };
  if (!capabilities.listJobs) {
    return { title: `${TITLES[filter.state]} jobs`, section: "jobs", data, body: html`${header}<p class="note">The ${name} backend does not list jobs yet (capability listJobs).</p>` };
  }

  let jobs: JobView[];
  let next: string | undefined;
  if (filter.id) {
    const found = await ctx.backend.jobs.get(filter.id);
    jobs = found ? [found] : [];
  } else {
    const page = await ctx.backend.jobs.list({ state: filter.state, ...(filter.queue ? { queue: filter.queue } : {}), ...(filter.job ? { job: filter.job } : {}), ...(filter.cursor ? { cursor: filter.cursor } : {}), limit: ctx.pageSize });
    jobs = page.jobs;
    next = page.next;
  }
  const actions = (STATE_ACTIONS[filter.state] ?? []).filter((action) => !ctx.readOnly && (capabilities.control || !needsControl(filter.state, action)));
  const selectable = actions.length > 0 && !filter.id;
  const [whenTitle, whenOf] = when(filter.state);
  const showError = ["retrying", "dead", "failed"].includes(filter.state);
  const rows = jobs.map((job) => {
    const args = argumentsView(job, ctx.redact);
    return html`<tr>
${selectable ? html`<td><input type="checkbox" name="ids" value="${job.id}" form="bulk" aria-label="Select job ${job.id}"></td>` : ""}
<td><a href="${ctx.base}/jobs/${encodeURIComponent(job.id)}">${shortId(job.id)}</a> <span class="job-class">${job.job}</span>${job.state !== filter.state ? html` <span class="badge state-${job.state}">${job.state}</span>` : ""}</td>
<td>${job.queue}</td>
<td><code class="args">${args.kind === "args" ? briefJson(args.value) : args.kind === "raw" ? "(malformed payload)" : args.kind === "hidden" ? "(hidden)" : "–"}</code></td>
<td>${time(whenOf(job))}</td>
<td class="num">${job.executions}</td>
${showError ? html`<td class="error-cell">${job.error ? html`<span class="error-name">${job.error.name}</span>: ${job.error.message}` : ""}</td>` : ""}
</tr>`;
  });
  const table = jobs.length
    ? html`<div class="table-wrap"><table class="jobs">
<caption>${filter.id ? `Job ${filter.id}` : `${TITLES[filter.state]} jobs${filter.queue ? ` of ${filter.queue}` : ""}${filter.job ? `, ${filter.job}` : ""}${filter.cursor ? " (a later page)" : ""}`}</caption>
<thead><tr>${selectable ? html`<th scope="col"><input type="checkbox" data-select-all aria-label="Select every job on this page" hidden></th>` : ""}<th scope="col">Job</th><th scope="col">Queue</th><th scope="col">Arguments</th><th scope="col">${whenTitle}</th><th scope="col" class="num" title="Runs started">Runs</th>${showError ? html`<th scope="col">Error</th>` : ""}</tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p class="empty">${filter.id ? `No job with id ${filter.id} (unknown, or its status expired).` : "No jobs here."}</p>`;
  const pager = html`<nav class="pager" aria-label="Pages">${filter.cursor ? html`<a href="${ctx.base}/jobs${query({ state: filter.state, ...base })}">First page</a>` : ""}${next ? html`<a href="${ctx.base}/jobs${query({ state: filter.state, ...base, cursor: next })}" rel="next">Next page</a>` : ""}</nav>`;
  return {
    title: `${TITLES[filter.state]} jobs`,
    section: "jobs",
    data,
    body: html`${header}${selectable ? bulkForm(ctx, filter, actions, jobs.length) : ""}${table}${pager}`,
  };
}

function filterForm(ctx: PageContext, filter: JobFilter, queueNames: string[]): Html {
  const names = filter.queue && !queueNames.includes(filter.queue) ? [filter.queue, ...queueNames] : queueNames;
  const jobNames = ctx.backend.jobNames();
  return html`<form class="filters" method="get" action="${ctx.base}/jobs" role="search" aria-label="Filter jobs">
<input type="hidden" name="state" value="${filter.state}">
<label>Queue <select name="queue"><option value="">All queues</option>${names.map((queue) => html`<option value="${queue}"${queue === filter.queue ? " selected" : ""}>${queue}</option>`)}</select></label>
<label>Job class <input name="job" value="${filter.job ?? ""}" list="job-names" autocomplete="off" size="16"></label>
<datalist id="job-names">${jobNames.map((job) => html`<option value="${job}"></option>`)}</datalist>
<label>Job id <input name="id" value="${filter.id ?? ""}" autocomplete="off" size="20" spellcheck="false"></label>
<button type="submit">Filter</button>
${filter.queue || filter.job || filter.id ? html`<a href="${ctx.base}/jobs${query({ state: filter.state })}">Clear filters</a>` : ""}
</form>`;
}

function bulkForm(ctx: PageContext, filter: JobFilter, actions: readonly (keyof typeof ACTIONS)[], onPage: number): Html {
  const scope = filter.queue || filter.job ? `${TITLES[filter.state].toLowerCase()} jobs matching the filter` : `${TITLES[filter.state].toLowerCase()} jobs`;
  const buttons = actions.flatMap((action) => {
    const text = ACTIONS[action];
    return [
      html`<button type="submit" name="action" value="${action}"${text.destructive ? html` class="danger" data-confirm="${text.label} the selected jobs?"` : ""} ${onPage === 0 ? "disabled" : ""}>${text.label} selected</button>`,
      html`<button type="submit" name="action" value="${action}:all" class="${text.destructive ? "danger" : ""}" data-confirm="${text.label} all ${scope}? They will ${text.effect}.">${text.label} all</button>`,
    ];
  });
  return html`<form id="bulk" class="bulk" method="post" action="${ctx.base}/actions/jobs" aria-label="Act on jobs">
${hiddenFields(ctx, { state: filter.state, queue: filter.queue, job: filter.job })}
<span class="muted">Selected jobs, or all ${scope}:</span> ${buttons}
</form>`;
}
