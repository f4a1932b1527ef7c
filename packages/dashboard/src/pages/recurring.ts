/**
 * The config's recurring tasks: schedule, time zone, next run, last run (and its job), and
 * "Run now", which enqueues one job of the task with its arguments (not a tick: the task's
 * schedule is unchanged).
 *
 * @module
 */
import type { PageContext } from "../context.js";
import { buttonForm } from "../forms.js";
import { shortId, time } from "../format.js";
import { html } from "../html.js";
import type { PageContent } from "../layout.js";

/** Renders the recurring tasks. */
export async function recurringPage(ctx: PageContext): Promise<PageContent> {
  const tasks = await ctx.backend.recurring.list();
  const rows = tasks.map(
    (task) => html`<tr>
<th scope="row">${task.name}</th>
<td class="job-class">${task.job}</td>
<td><code>${task.schedule}</code>${task.timezone && !task.schedule.includes(task.timezone) ? html` <span class="muted">(${task.timezone})</span>` : ""}</td>
<td>${task.nextRunAt ? time(task.nextRunAt) : html`<span class="muted">never again</span>`}</td>
<td>${task.lastUnknown !== null ? html`<span class="muted" title="${task.lastUnknown}">unknown</span>` : time(task.lastRunAt)}</td>
<td>${task.lastJobId ? html`<a href="${ctx.base}/jobs/${encodeURIComponent(task.lastJobId)}" aria-label="Last job of ${task.name}">${shortId(task.lastJobId)}</a>` : html`<span class="muted">–</span>`}</td>
${ctx.readOnly ? "" : html`<td>${buttonForm(ctx, { path: "/actions/recurring", fields: { name: task.name }, label: "Run now", ariaLabel: `Run ${task.name} now` })}</td>`}
</tr>`,
  );
  const unknown = tasks.find((task) => task.lastUnknown !== null)?.lastUnknown;
  const body = tasks.length
    ? html`<div class="table-wrap"><table>
<caption>Recurring tasks, ${tasks.length} in all</caption>
<thead><tr><th scope="col">Task</th><th scope="col">Job</th><th scope="col">Schedule</th><th scope="col">Next run</th><th scope="col">Last run</th><th scope="col">Last job</th>${ctx.readOnly ? "" : html`<th scope="col"><span class="visually-hidden">Actions</span></th>`}</tr></thead>
<tbody>${rows}</tbody></table></div>
${unknown ? html`<p class="note">Last runs are unknown: ${unknown}.</p>` : ""}`
    : html`<p class="empty">No recurring tasks: the config's <code>recurring</code> section is empty.</p>`;
  return { title: "Recurring tasks", section: "recurring", body: html`<h1>Recurring tasks</h1>${body}` };
}
