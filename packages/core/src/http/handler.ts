/**
 * `jobStatusHandler`: job status over HTTP as a Fetch-API handler (`Request → Response`),
 * mountable in any server (`toNodeHandler` for `node:http`, Express and Fastify; Hono,
 * Bun, Deno and workers take it as it is).
 *
 *   GET <basePath>/:id          → the status as JSON (for polling)
 *   GET <basePath>/:id/events   → the status as Server-Sent Events, until it is final
 *
 * Nothing is served without an access rule: a `secret` (requests carry a `statusToken`
 * for the job, as `?token=` or `Authorization: Bearer`), an `authorize(request, jobId)`
 * hook, or both (then both must pass). Refusals are 403 and never echo the token; an
 * unknown job is 404 (after the access check, so ids cannot be probed); an unreachable
 * backend is 503 with `Retry-After`. Cross-origin reads are refused unless `cors` names
 * the origin.
 *
 * @module
 */
import { rules, validateOptions, type OptionSchema } from "../config/validate.js";
import { toMs, type Duration } from "../duration.js";
import { AdapterError, ConfigError, JobNotFoundError } from "../errors.js";
import { currentRuntime, type Runtime } from "../runtime.js";
import { StatusSnapshot } from "../status/snapshot.js";
import { SnapshotWatcher } from "../status/watcher.js";
import { corsHeaders, preflight, type CorsOptions, CORS_RULE } from "./cors.js";
import { StreamRegistry } from "./sse.js";
import { checkSecrets, verifyStatusToken, type StatusSecret } from "./token.js";

/** Options of {@link jobStatusHandler}. */
export interface JobStatusHandlerOptions {
  /** Where the routes live: `"/jobs"` serves `/jobs/:id` and `/jobs/:id/events`. Default `""`. */
  basePath?: string;
  /** Requires a `statusToken` signed with this secret (or one of these). */
  secret?: StatusSecret;
  /**
   * Decides per request (a session cookie, a header): `true` serves the job's status.
   * With `secret` too, both must pass. Serving every status to anyone is
   * `authorize: () => true`, said out loud.
   */
  authorize?: (request: Request, jobId: string) => boolean | Promise<boolean>;
  /** Named adapter (`adapters.<name>`); default: the default adapter. */
  adapter?: string;
  /** The runtime to use; default: the current one at each request. */
  runtime?: Runtime;
  /** Comment sent on idle streams so proxies keep them open; default `"15s"`. */
  heartbeat?: Duration;
  /** Reconnection delay the browser is told (`retry:`); default `"2s"`. */
  retry?: Duration;
  /** Allow cross-origin reads from these origins (none by default). */
  cors?: CorsOptions;
}

const HANDLER_SCHEMA: OptionSchema<JobStatusHandlerOptions> = {
  basePath: rules.string,
  secret: { expected: "a string or an array of strings", test: (v) => typeof v === "string" || Array.isArray(v) },
  authorize: rules.function,
  adapter: rules.nonEmptyString,
  runtime: rules.withMethods("a Runtime", "adapterFor"),
  heartbeat: rules.duration,
  retry: rules.duration,
  cors: CORS_RULE,
};

/** A status handler: call it with a request; it also knows its routes and open streams. */
export interface JobStatusHandler {
  (request: Request): Promise<Response>;
  /** The base path it serves. */
  readonly basePath: string;
  /** True when `pathname` is one of its routes (else the handler answers 404). */
  handles(pathname: string): boolean;
  /** Event streams open right now. */
  readonly openStreams: number;
  /** Ends every open event stream (before `server.close()`, which waits for them). */
  closeStreams(): void;
}

/** Job ids are UUIDs; this admits any id an app could choose without reaching the backend with junk. */
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const RETRY_AFTER_SECONDS = 5;

/**
 * Serves job statuses as JSON and Server-Sent Events.
 * @example
 * const handler = jobStatusHandler({ basePath: "/jobs", secret: process.env.ERRAND_SECRET! });
 * http.createServer(toNodeHandler(handler)).listen(3000);
 * @throws ConfigError without an access rule (`secret` or `authorize`), or for a bad option.
 */
export function jobStatusHandler(options: JobStatusHandlerOptions): JobStatusHandler {
  validateOptions(options, HANDLER_SCHEMA, "the jobStatusHandler options");
  if (options.secret === undefined && options.authorize === undefined) {
    throw new ConfigError(
      "jobStatusHandler needs an access rule: secret (pages get a statusToken(jobId, { secret }) with the job id) or authorize(request, jobId); to serve every status to anyone, pass authorize: () => true",
    );
  }
  const secrets = options.secret === undefined ? undefined : checkSecrets(options.secret, "jobStatusHandler");
  const basePath = normalizeBasePath(options.basePath ?? "");
  const retryMs = toMs(options.retry ?? "2s", "jobStatusHandler retry");
  const streams = new StreamRegistry(toMs(options.heartbeat ?? "15s", "jobStatusHandler heartbeat"));
  const cors = options.cors;

  const route = (pathname: string): { jobId: string; events: boolean } | undefined => {
    if (!pathname.startsWith(`${basePath}/`)) return undefined;
    const parts = pathname.slice(basePath.length + 1).split("/");
    if (parts.length > 2 || (parts.length === 2 && parts[1] !== "events")) return undefined;
    let jobId: string;
    try {
      jobId = decodeURIComponent(parts[0]!);
    } catch {
      return undefined;
    }
    return JOB_ID.test(jobId) ? { jobId, events: parts.length === 2 } : undefined;
  };

  const refusal = async (request: Request, url: URL, jobId: string): Promise<string | undefined> => {
    if (secrets) {
      const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
      const reason = verifyStatusToken(url.searchParams.get("token") ?? bearer, jobId, secrets);
      if (reason) return `status token ${reason}`;
    }
    if (options.authorize && (await options.authorize(request, jobId)) !== true) return "not authorized";
    return undefined;
  };

  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const target = route(url.pathname);
    const extra = corsHeaders(cors, request);
    if (!target) return problem(404, "not_found", "no such route", extra);
    if (request.method === "OPTIONS" && cors) return preflight(cors, request);
    if (request.method !== "GET" && request.method !== "HEAD") {
      return problem(405, "method_not_allowed", `${request.method} is not allowed; use GET`, { ...extra, allow: "GET, HEAD" });
    }
    const refused = await refusal(request, url, target.jobId);
    if (refused) return problem(403, "forbidden", refused, extra);
    const runtime = options.runtime ?? currentRuntime();
    try {
      const client = await runtime.adapterFor(options.adapter);
      if (!target.events) {
        const [record] = await client.getStatus([target.jobId]);
        if (!record) return notFound(extra);
        const body = request.method === "HEAD" ? null : new StatusSnapshot(record).text;
        return new Response(body, { headers: { ...JSON_HEADERS, ...extra } });
      }
      const watcher = new SnapshotWatcher(client, target.jobId, request.signal);
      let first: StatusSnapshot | undefined;
      try {
        first = await watcher.next();
      } catch (error) {
        watcher.close();
        throw error;
      }
      const known = request.headers.get("last-event-id") ?? undefined;
      if (!first || (first.finished && first.version === known) || request.method === "HEAD") {
        // 204 tells EventSource not to reconnect: the client has the final status.
        watcher.close();
        return new Response(null, { status: first ? 204 : 404, headers: extra });
      }
      return new Response(streams.open(watcher, first, retryMs, known), { headers: { ...EVENT_HEADERS, ...extra } });
    } catch (error) {
      if (error instanceof JobNotFoundError) return notFound(extra);
      if (error instanceof AdapterError) {
        return problem(503, "unavailable", "the job backend cannot be reached; try again", { ...extra, "retry-after": String(RETRY_AFTER_SECONDS) });
      }
      throw error;
    }
  };

  Object.defineProperties(handle, {
    basePath: { value: basePath, enumerable: true },
    handles: { value: (pathname: string) => route(pathname) !== undefined },
    openStreams: { get: () => streams.size, enumerable: true },
    closeStreams: { value: () => streams.closeAll() },
  });
  return handle as JobStatusHandler;
}

const JSON_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/** `no-transform` keeps compressing proxies from holding events back; X-Accel-Buffering does the same for nginx. */
const EVENT_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-store, no-transform",
  "x-accel-buffering": "no",
  "x-content-type-options": "nosniff",
};

function problem(status: number, error: string, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error, message }), { status, headers: { ...JSON_HEADERS, ...headers } });
}

function notFound(headers: Record<string, string>): Response {
  return problem(404, "not_found", "no status for this job (unknown id, or its status expired)", headers);
}

function normalizeBasePath(basePath: string): string {
  if (basePath === "" || basePath === "/") return "";
  if (!basePath.startsWith("/") || /[?#]/.test(basePath)) {
    throw new ConfigError(`jobStatusHandler: basePath must be a path starting with "/" (like "/jobs"), got ${JSON.stringify(basePath)}`);
  }
  return basePath.replace(/\/+$/, "");
}
