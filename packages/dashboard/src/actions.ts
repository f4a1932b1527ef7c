/**
 * The dashboard's actions: the POST routes behind its forms. The handler has already
 * checked access, read-only and CSRF by the time one runs. Each answers with a `303 See
 * Other` back to the page it came from, with a notice (`?notice=retried&n=3&of=3`), or with
 * a confirmation page when the action asks first and the form did not carry `confirm=1`.
 *
 * - `POST <base>/actions/jobs`: `action` (`retry`, `discard`, `runNow`, `cancel`, `abort`,
 *   `interrupt`, or one of them with `:all`), `state` (the state the jobs are in), then `ids` (one or
 *   more) or, with `:all`, the filter (`queue`, `job`). Asks first for a selection, for
 *   `:all`, and for a destructive action (discard, cancel, abort) on one job.
 * - `POST <base>/actions/queues`: `action` (`pause` or `resume`), `queue`.
 * - `POST <base>/actions/recurring`: `name`: enqueues one job of the task now.
 *
 * "All matching" works in pages of {@link BATCH} jobs, each listed then acted on, for at
 * most {@link BUDGET_MS} per request; the notice then says more remain. All dead jobs (of
 * one queue or every queue) with no job-class filter are one backend call instead
 * (`retryDead` / `purgeDead` with `all`).
 *
 * @module
 */
import { MAX_LIST_LIMIT } from "@errand/core/adapter";
import { UnknownRecurringTaskError, type JobState } from "@errand/core";

import type { PageContext } from "./context.js";
import { hiddenFields } from "./forms.js";
import { count } from "./format.js";
import { html } from "./html.js";
import { ACTIONS, allowed, applyAction, needsControl, type JobActionName } from "./job-actions.js";
import type { PageContent } from "./layout.js";
import { JOB_STATES } from "./pages/jobs.js";

/** Jobs per listed page of an "all matching" action: the contract's largest page. */
export const BATCH = MAX_LIST_LIMIT;
/**
 * Longest an "all matching" action works in one request before it answers "more remain":
 * under the 30–60 s a proxy gives a request. On the async adapter 5,000 dead jobs of one
 * class were discarded in 10 pages in 1.0 s (2026-12-03), so the budget bites only for
 * hundreds of thousands of jobs or a slow backend.
 */
export const BUDGET_MS = 10_000;
/** Most ids one request may name (a page's selection). */
const MAX_IDS = MAX_LIST_LIMIT;
const JOB_ACTIONS: readonly JobActionName[] = ["retry", "discard", "runNow", "cancel", "abort", "interrupt"];

/** An action's answer: a redirect, or a page (a confirmation, or why the request is refused). */
export type ActionResult = { redirect: string } | PageContent;

/** Refuses a malformed request with 400, saying what is wrong. */
function refuse(message: string, status = 400): PageContent {
  return { title: "Not done", section: "jobs", status, body: html`<h1>Not done</h1><p class="error">${message}</p>` };
}

/** The path to go back to: the form's `return` when it is a dashboard page, else the overview. */
export function safeReturn(ctx: PageContext, value: string | null): string {
  const home = `${ctx.base}/`;
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.includes("\\")) return home;
  const path = value.split(/[?#]/)[0]!;
  return path === ctx.base || path.startsWith(`${ctx.base}/`) ? value : home;
}

function withNotice(path: string, params: Record<string, string | number>): string {
  const [pathname, search = ""] = path.split("?");
  const query = new URLSearchParams(search);
  for (const [key, value] of Object.entries(params)) query.set(key, String(value));
  return `${pathname}?${query}`;
}

/** `POST <base>/actions/jobs`. */
export async function jobsAction(ctx: PageContext, form: URLSearchParams): Promise<ActionResult> {
  const [name, scope, extra] = (form.get("action") ?? "").split(":");
  const action = name as JobActionName;
  if (!JOB_ACTIONS.includes(action) || extra !== undefined || (scope !== undefined && scope !== "all")) {
    return refuse(`unknown action ${JSON.stringify(form.get("action"))}; the actions are ${JOB_ACTIONS.join(", ")}, each optionally with ":all"`);
  }
  const state = form.get("state") as JobState;
  if (!JOB_STATES.includes(state)) return refuse(`unknown state ${JSON.stringify(state)}; the states are ${JOB_STATES.join(", ")}`);
  if (!allowed(state, action)) return refuse(`${ACTIONS[action].label} does not apply to ${state} jobs`);
  const { name: backendName, capabilities } = await ctx.backend.describe();
  if (needsControl(state, action) && !capabilities.control) return refuse(`the ${backendName} backend has no operator controls yet (capability control)`, 501);
  const all = scope === "all";
  const queue = form.get("queue") || undefined;
  const job = form.get("job") || undefined;
  const ids = form.getAll("ids").filter((id) => id !== "");
  if (!all && ids.length === 0) return { redirect: withNotice(safeReturn(ctx, form.get("return")), { notice: "noneSelected" }) };
  if (ids.length > MAX_IDS) return refuse(`at most ${MAX_IDS} jobs at once; use "all" for more`);
  if (all && !capabilities.listJobs && !(state === "dead" && job === undefined)) return refuse(`the ${backendName} backend does not list jobs yet (capability listJobs)`, 501);

  const text = ACTIONS[action];
  const back = safeReturn(ctx, form.get("return"));
  if (form.get("confirm") !== "1" && (all || ids.length > 1 || text.destructive)) {
    const what = all
      ? `all ${state} jobs${queue ? ` of queue ${queue}` : ""}${job ? ` of class ${job}` : ""}${queue || job ? "" : " in every queue"}`
      : ids.length === 1
        ? `job ${ids[0]}`
        : `the ${count(ids.length)} selected ${state} jobs`;
    return {
      title: "Confirm",
      section: "jobs",
      body: html`<h1>${text.label} ${what}?</h1>
<p>They will ${text.effect}.${all ? " Jobs are handled a page at a time; a very large set may take more than one go." : ""}</p>
<form method="post" action="${ctx.base}/actions/jobs" class="confirm">
${hiddenFields(ctx, { action: form.get("action")!, state, queue, job, ids, confirm: "1", return: back })}
<button type="submit" class="${text.destructive ? "danger" : ""}" autofocus>${text.label}</button>
<a href="${back}">Go back</a>
</form>`,
    };
  }

  let done = 0;
  let asked = ids.length;
  let more = false;
  if (!all) done = await applyAction(ctx.backend, state, action, ids);
  else if (state === "dead" && job === undefined) done = action === "retry" ? await ctx.backend.dead.retryAll(queue) : await ctx.backend.dead.purgeAll(queue);
  else {
    const deadline = Date.now() + BUDGET_MS;
    let cursor: string | undefined;
    for (;;) {
      const page = await ctx.backend.jobs.list({ state, limit: BATCH, ...(queue ? { queue } : {}), ...(job ? { job } : {}), ...(cursor ? { cursor } : {}) });
      asked += page.jobs.length;
      done += await applyAction(ctx.backend, state, action, page.jobs.map((listed) => listed.id));
      cursor = page.next;
      if (!cursor) break;
      if (Date.now() > deadline) {
        more = true;
        break;
      }
    }
  }
  return { redirect: withNotice(back, { notice: text.notice, n: done, of: all && state === "dead" && job === undefined ? done : asked, ...(more ? { more: 1 } : {}) }) };
}

/** `POST <base>/actions/queues`. */
export async function queuesAction(ctx: PageContext, form: URLSearchParams): Promise<ActionResult> {
  const action = form.get("action");
  const queue = form.get("queue");
  if (action !== "pause" && action !== "resume") return refuse(`unknown queue action ${JSON.stringify(action)}; use pause or resume`);
  if (!queue) return refuse("name the queue (field queue)");
  const { name, capabilities } = await ctx.backend.describe();
  if (!capabilities.control) return refuse(`the ${name} backend cannot pause queues yet (capability control)`, 501);
  if (action === "pause") await ctx.backend.queues.pause(queue);
  else await ctx.backend.queues.resume(queue);
  return { redirect: withNotice(safeReturn(ctx, form.get("return")), { notice: action === "pause" ? "paused" : "resumed", subject: queue }) };
}

/** `POST <base>/actions/recurring`. */
export async function recurringAction(ctx: PageContext, form: URLSearchParams): Promise<ActionResult> {
  const name = form.get("name");
  if (!name) return refuse("name the task (field name)");
  try {
    const { jobId } = await ctx.backend.recurring.run(name);
    return { redirect: withNotice(safeReturn(ctx, form.get("return")), { notice: "enqueued", subject: name, jobid: jobId }) };
  } catch (error) {
    if (error instanceof UnknownRecurringTaskError) return refuse(error.message, 404);
    throw error;
  }
}
