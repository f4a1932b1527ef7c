/**
 * Workers: every worker process that beat within the last hour — host, pid, queues,
 * concurrency, the jobs it runs now, its last heartbeat — live ones first; one that
 * stopped beating without saying so (killed, hung, cut off) is shown gone.
 *
 * @module
 */
import type { PageContext } from "../context.js";
import { count, relative, shortId, time } from "../format.js";
import { html } from "../html.js";
import type { PageContent } from "../layout.js";

/** Renders the workers. */
export async function workersPage(ctx: PageContext): Promise<PageContent> {
  const { name, capabilities } = await ctx.backend.describe();
  if (!capabilities.control) {
    return { title: "Workers", section: "workers", body: html`<h1>Workers</h1><p class="note">The ${name} backend keeps no worker heartbeats yet (capability control).</p>` };
  }
  const workers = await ctx.backend.workers();
  const rows = workers.map(
    (worker) => html`<tr${worker.gone ? html` class="gone"` : ""}>
<th scope="row"><code>${worker.host}</code> <span class="muted">pid ${worker.pid}</span>${worker.gone ? html` <span class="badge gone" title="No heartbeat since ${relative(worker.lastBeatAt, ctx.now)}">gone</span>` : ""}</th>
<td><code>${worker.queues}</code></td>
<td class="num">${worker.running.length} / ${worker.concurrency}</td>
<td>${worker.running.length ? html`<ul class="plain">${worker.running.map((job) => html`<li><a href="${ctx.base}/jobs/${encodeURIComponent(job.id)}">${shortId(job.id)}</a> <span class="job-class">${job.job}</span> <span class="muted">${job.queue}, ${relative(job.startedAt, ctx.now).replace(/ ago$/, "")}</span></li>`)}</ul>` : html`<span class="muted">idle</span>`}</td>
<td>${time(worker.startedAt)}</td>
<td>${time(worker.lastBeatAt)}</td>
</tr>`,
  );
  const live = workers.filter((worker) => !worker.gone).length;
  const body = workers.length
    ? html`<div class="table-wrap"><table>
<caption>${count(live)} live, ${count(workers.length - live)} gone</caption>
<thead><tr><th scope="col">Worker</th><th scope="col">Queues</th><th scope="col" class="num">Running</th><th scope="col">Jobs now</th><th scope="col">Started</th><th scope="col">Last heartbeat</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p class="empty">No worker has beat in the last hour.</p>`;
  return { title: "Workers", section: "workers", body: html`<h1>Workers</h1>${body}` };
}
