/**
 * `dashboard()`: Errand's operator UI as one Fetch-API handler (`Request → Response`),
 * mountable in any server (`toNodeHandler` from `@errand/core` for `node:http`, Express and
 * Fastify; Hono, Bun and Deno take it as it is).
 *
 *   GET  <base>/                      overview: queues, counts, latency, throughput
 *   GET  <base>/jobs?state=…          jobs of a state, filtered, a page at a time
 *   GET  <base>/jobs/:id              one job
 *   GET  <base>/batches/:id           one batch (`capabilities.batches`)
 *   GET  <base>/recurring             recurring tasks
 *   GET  <base>/workers               workers
 *   GET  <base>/live/queues           queue counts as Server-Sent Events (one shared poll)
 *   GET  <base>/status/:id[/events]   a job's status as JSON / events (core's status handler)
 *   GET  <base>/assets/:name          the stylesheet and the script
 *   POST <base>/actions/{jobs,queues,recurring}
 *
 * Every request passes `authorize` first, assets and streams included. Every POST then
 * passes read-only, then CSRF (`csrf.ts`). Pages are HTML with a strict
 * Content-Security-Policy (no inline script or style), never framed (`frame-ancestors
 * 'none'`: an action cannot be clicked through another site's page), never cached.
 *
 * @module
 */
import { AdapterError, ConfigError, jobStatusHandler, UnsupportedError } from "@errand/core";

import { jobsAction, queuesAction, recurringAction, type ActionResult } from "./actions.js";
import { assetResponse, assets } from "./assets.js";
import { Backend, type PageContext } from "./context.js";
import { CSRF_FIELD, csrfRefusal, newToken, tokenCookie, tokenFromCookie } from "./csrf.js";
import { html } from "./html.js";
import { renderPage, type PageContent } from "./layout.js";
import { QueueFeed } from "./live.js";
import { resolveOptions, type DashboardOptions } from "./options.js";
import { batchPage } from "./pages/batch.js";
import { jobPage } from "./pages/job.js";
import { jobFilter, jobsPage } from "./pages/jobs.js";
import { overviewPage } from "./pages/overview.js";
import { recurringPage } from "./pages/recurring.js";
import { workersPage } from "./pages/workers.js";

/** The dashboard: call it with a request; it also knows its routes and open streams. */
export interface Dashboard {
  (request: Request): Promise<Response>;
  /** The base path it serves (`""` at the root). */
  readonly basePath: string;
  /** True when `pathname` is the dashboard's (for servers that pass other paths on). */
  handles(pathname: string): boolean;
  /** Event streams open right now (queue counts and job statuses). */
  readonly openStreams: number;
  /** Ends every open event stream (before `server.close()`, which waits for them). */
  closeStreams(): void;
  /** Queue-count reads done by the live feed so far (shared by every open page). */
  readonly liveReads: number;
}

/** Job and batch ids (core's are UUIDv7; a backend's own ids fit too). */
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
/** Largest action form accepted: a page's 500 selected ids are ~25 KB. */
const MAX_FORM_BYTES = 64 * 1024;
const RETRY_AFTER_SECONDS = 5;

const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "x-content-type-options": "nosniff",
};

const EVENT_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-store, no-transform",
  "x-accel-buffering": "no",
  "x-content-type-options": "nosniff",
};

type Route =
  | { kind: "page"; page: "overview" | "jobs" | "recurring" | "workers" }
  | { kind: "job"; id: string }
  | { kind: "batch"; id: string }
  | { kind: "live" }
  | { kind: "status" }
  | { kind: "asset"; name: string }
  | { kind: "action"; target: "jobs" | "queues" | "recurring" };

/**
 * The operator UI as a Fetch-API handler.
 * @example
 * const ui = dashboard({ basePath: "/errand", authorize: basicAuth({ username: "ops", password: process.env.OPS_PASSWORD! }) });
 * http.createServer(toNodeHandler(ui)).listen(3000);
 * @throws ConfigError without `authorize`, for an unknown option, or for a value of the wrong kind.
 */
export function dashboard(options: DashboardOptions): Dashboard {
  const resolved = resolveOptions(options);
  const { basePath: base } = resolved;
  const backend = new Backend(resolved.scope);
  const files = assets();
  const assetUrls = { css: `${base}/assets/${files.css.name}`, js: `${base}/assets/${files.js.name}` };
  const feed = new QueueFeed(backend, resolved.liveIntervalMs, 2000);
  const status = jobStatusHandler({ basePath: `${base}/status`, authorize: () => true, ...resolved.scope });

  const route = (pathname: string): Route | undefined => {
    if (pathname !== base && !pathname.startsWith(`${base}/`)) return undefined;
    const rest = pathname.slice(base.length).replace(/\/$/, "") || "/";
    if (rest === "/") return { kind: "page", page: "overview" };
    if (rest === "/jobs" || rest === "/recurring" || rest === "/workers") return { kind: "page", page: rest.slice(1) as "jobs" };
    if (rest === "/live/queues") return { kind: "live" };
    if (rest.startsWith("/status/")) return { kind: "status" };
    if (rest === "/actions/jobs" || rest === "/actions/queues" || rest === "/actions/recurring") return { kind: "action", target: rest.slice(9) as "jobs" };
    const asset = /^\/assets\/([\w.-]+)$/.exec(rest);
    if (asset) return { kind: "asset", name: asset[1]! };
    const one = /^\/(jobs|batches)\/([^/]+)$/.exec(rest);
    if (one) {
      try {
        const id = decodeURIComponent(one[2]!);
        if (JOB_ID.test(id)) return { kind: one[1] === "jobs" ? "job" : "batch", id };
      } catch {
        return undefined;
      }
    }
    return undefined;
  };

  const respond = (ctx: PageContext, content: PageContent, setCookie: string | undefined, method: string): Response => {
    const headers: Record<string, string> = { ...PAGE_HEADERS };
    if (setCookie) headers["set-cookie"] = setCookie;
    const body = renderPage(ctx, assetUrls, content);
    return new Response(method === "HEAD" ? null : body, { status: content.status ?? 200, headers });
  };

  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const target = route(url.pathname);
    if (!target) return plain(404, "Not found");
    const verdict = await resolved.authorize(request);
    if (verdict instanceof Response) return verdict;
    if (verdict !== true) return plain(403, "Forbidden: this dashboard's authorize rule refused the request");

    const method = request.method;
    const post = target.kind === "action";
    if (post ? method !== "POST" : method !== "GET" && method !== "HEAD") {
      return plain(405, `${method} is not allowed here; use ${post ? "POST" : "GET"}`, { allow: post ? "POST" : "GET, HEAD" });
    }
    if (target.kind === "asset") {
      const asset = [files.css, files.js].find((file) => file.name === target.name);
      return asset ? assetResponse(asset, request) : plain(404, "Not found");
    }
    if (target.kind === "status") return status(request);
    if (target.kind === "live") {
      if (method === "HEAD") return new Response(null, { headers: EVENT_HEADERS });
      return new Response(feed.open(request.signal), { headers: EVENT_HEADERS });
    }

    const known = tokenFromCookie(request);
    const csrf = known ?? newToken();
    const setCookie = known ? undefined : tokenCookie(csrf, base, url.protocol === "https:");
    const ctx: PageContext = { base, url, csrf, readOnly: resolved.readOnly, redact: resolved.redact, backend, title: resolved.title, pageSize: resolved.pageSize, now: Date.now() };
    try {
      if (target.kind === "action") {
        if (resolved.readOnly) return respond(ctx, refusal(403, "This dashboard is read-only: it takes no actions."), setCookie, method);
        const form = await readForm(request);
        if (typeof form === "string") return respond(ctx, refusal(400, form), setCookie, method);
        const refused = csrfRefusal(request, form.get(CSRF_FIELD) ?? undefined, resolved.trustedOrigins);
        if (refused) return respond(ctx, refusal(403, `Refused: ${refused}.`), setCookie, method);
        const result: ActionResult =
          target.target === "jobs" ? await jobsAction(ctx, form) : target.target === "queues" ? await queuesAction(ctx, form) : await recurringAction(ctx, form);
        if ("redirect" in result) return new Response(null, { status: 303, headers: { location: result.redirect, "cache-control": "no-store" } });
        return respond(ctx, result, setCookie, method);
      }
      let content: PageContent;
      if (target.kind === "job") content = await jobPage(ctx, target.id);
      else if (target.kind === "batch") content = await batchPage(ctx, target.id);
      else if (target.page === "overview") content = await overviewPage(ctx);
      else if (target.page === "recurring") content = await recurringPage(ctx);
      else if (target.page === "workers") content = await workersPage(ctx);
      else {
        const filter = jobFilter(url);
        content = typeof filter === "string" ? refusal(400, filter) : await jobsPage(ctx, filter);
      }
      return respond(ctx, content, setCookie, method);
    } catch (error) {
      if (error instanceof AdapterError) {
        const response = respond(ctx, refusal(503, "The job backend cannot be reached right now; try again in a moment."), setCookie, method);
        response.headers.set("retry-after", String(RETRY_AFTER_SECONDS));
        return response;
      }
      if (error instanceof UnsupportedError) return respond(ctx, refusal(501, error.message), setCookie, method);
      if (error instanceof ConfigError) return respond(ctx, refusal(400, error.message), setCookie, method);
      throw error;
    }
  };

  Object.defineProperties(handle, {
    basePath: { value: base, enumerable: true },
    handles: { value: (pathname: string) => route(pathname) !== undefined },
    openStreams: { get: () => feed.size + status.openStreams, enumerable: true },
    closeStreams: {
      value: () => {
        feed.closeAll();
        status.closeStreams();
      },
    },
    liveReads: { get: () => feed.reads, enumerable: true },
  });
  return handle as Dashboard;
}

function plain(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(message, { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers } });
}

function refusal(status: number, message: string): PageContent {
  return { title: status === 403 ? "Refused" : "Not done", section: "overview", status, body: html`<h1>${status === 403 ? "Refused" : "Not done"}</h1><p class="error" role="alert">${message}</p>` };
}

/** The POSTed form (URL-encoded), or why it cannot be read. */
async function readForm(request: Request): Promise<URLSearchParams | string> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) return `actions take a form (application/x-www-form-urlencoded), got ${type || "no content type"}`;
  if (!request.body) return new URLSearchParams();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_FORM_BYTES) {
      await reader.cancel();
      return `the form is larger than ${MAX_FORM_BYTES / 1024} KB`;
    }
    chunks.push(value);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}
