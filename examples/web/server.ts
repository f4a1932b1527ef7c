/**
 * The web example's routes, as a `node:http` request listener:
 *
 * | route | what |
 * | --- | --- |
 * | `GET /` | the feeds page (form prefilled with the slow feed's URL) |
 * | `GET /report` | the report page |
 * | `POST /feeds` `{ url }` | enqueues `FetchFeedJob`; 202 `{ jobId, statusUrl }` |
 * | `POST /reports` `{ month }` | enqueues `ReportJob`; 202 `{ jobId, statusUrl }` |
 * | `GET /jobs/:id?token=…` | the job's status as JSON (polling) — Errand's `jobStatusHandler` |
 * | `GET /jobs/:id/events?token=…` | the same as Server-Sent Events, pushed as it changes |
 * | `GET /static/*` | the pages' script and style |
 * | `GET /vendor/errand-client/*` | `@errand/client`'s ES modules, as built (no bundler) |
 *
 * A POST only checks its input and enqueues, so it answers in a few milliseconds whatever
 * the backend; the `statusUrl` carries a signed token for that one job, so nobody reads
 * another user's job.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

import { jobStatusHandler, statusToken, toNodeHandler, type Duration } from "@errand/core";

import { FetchFeedJob, NotAFeedError, parseFeedUrl } from "./fetch-feed-job.js";
import { BadMonthError, parseMonth, ReportJob } from "./report-job.js";

/** Options of {@link createWebApp}. */
export interface WebAppOptions {
  /** The URL the feed form is prefilled with (the slow feed server's). */
  feedUrl: string;
  /** Secret status tokens are signed with; a list to rotate (the first signs). */
  secret: string | string[];
  /** How long a status URL stays valid. Default `"1h"`. */
  tokenExpiresIn?: Duration;
  /** The status stream's `retry:` (how soon a browser reconnects). Default: the handler's. */
  retry?: Duration;
}

/** Where the pages live: `examples/web/pages`, beside this file's source. */
const PAGES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "web", "pages");
/** `@errand/client`'s built ES modules, served as they are. */
const CLIENT_DIST = dirname(fileURLToPath(import.meta.resolve("@errand/client")));
const TYPES: Record<string, string> = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".map": "application/json" };
const KNOWN_OPTIONS = new Set(["feedUrl", "secret", "tokenExpiresIn", "retry"]);
/** POST bodies are a URL or a month: 16 KB is plenty. */
const MAX_BODY = 16 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

function escapeHtml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c]!);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) throw new HttpError(415, "send the body as application/json");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, `the body is over ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "the body is not JSON");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw new HttpError(400, "the body must be a JSON object");
  return body as Record<string, unknown>;
}

/** A file under `root` named by `rest` of the URL path, or undefined when it would leave `root`. */
function inside(root: string, rest: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return undefined;
  }
  const file = normalize(join(root, decoded));
  return file.startsWith(root + sep) ? file : undefined;
}

async function sendFile(res: ServerResponse, root: string, rest: string): Promise<void> {
  const file = inside(root, rest);
  const type = file && TYPES[file.slice(file.lastIndexOf("."))];
  if (!file || !type) return send(res, 404, { error: `no such file: ${rest}` });
  let content: Buffer;
  try {
    content = await readFile(file);
  } catch {
    return send(res, 404, { error: `no such file: ${rest}` });
  }
  res.writeHead(200, { "content-type": type, "content-length": content.length });
  res.end(content);
}

/**
 * The app's request listener. Jobs are enqueued on the configured runtime (`configure()`
 * first); statuses are read and pushed through the same runtime.
 */
export function createWebApp(options: WebAppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new TypeError(`createWebApp: unknown option "${key}" (known: ${[...KNOWN_OPTIONS].join(", ")})`);
  }
  const { feedUrl, secret, tokenExpiresIn = "1h", retry } = options;
  const pages = {
    feeds: readFileSync(join(PAGES, "feeds.html"), "utf8").replace("{{feedUrl}}", escapeHtml(feedUrl)),
    report: readFileSync(join(PAGES, "report.html"), "utf8"),
  };
  const status = toNodeHandler(jobStatusHandler({ basePath: "/jobs", secret, ...(retry === undefined ? {} : { retry }) }));

  async function enqueue(res: ServerResponse, job: Promise<{ jobId: string }>): Promise<void> {
    const { jobId } = await job;
    const token = statusToken(jobId, { secret, expiresIn: tokenExpiresIn });
    send(res, 202, { jobId, statusUrl: `/jobs/${jobId}?token=${encodeURIComponent(token)}` });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const page = (html: string) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(html);
    };
    if (req.method === "GET" && path === "/") return page(pages.feeds);
    if (req.method === "GET" && path === "/report") return page(pages.report);
    if (req.method === "POST" && path === "/feeds") {
      const { url } = await readJson(req);
      return enqueue(res, FetchFeedJob.performLater(parseFeedUrl(url).href));
    }
    if (req.method === "POST" && path === "/reports") {
      const { month } = await readJson(req);
      return enqueue(res, ReportJob.performLater(parseMonth(month)));
    }
    if (req.method === "GET" && path.startsWith("/static/")) return sendFile(res, PAGES, path.slice("/static/".length));
    if (req.method === "GET" && path.startsWith("/vendor/errand-client/")) return sendFile(res, CLIENT_DIST, path.slice("/vendor/errand-client/".length));
    // Everything under /jobs is Errand's: token check, JSON or SSE; anything else is a 404.
    status(req, res, (error?: unknown) => {
      if (error === undefined) send(res, 404, { error: `no route for ${req.method ?? "?"} ${path}` });
      else fail(res, error);
    });
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => fail(res, error));
  };
}

function fail(res: ServerResponse, error: unknown): void {
  if (res.headersSent) return void res.destroy();
  if (error instanceof HttpError) return send(res, error.status, { error: error.message });
  // Bad input named by the job's own checks: the user's mistake, said plainly.
  if (error instanceof NotAFeedError || error instanceof BadMonthError) return send(res, 400, { error: error.message });
  console.error(error);
  send(res, 500, { error: "internal error" });
}
