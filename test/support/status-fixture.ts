// A protocol fixture for the browser-client tests: a node:http server that speaks the job
// status protocol (GET /jobs/:id JSON, GET /jobs/:id/events Server-Sent Events, token in the
// query) from statuses the test sets, and serves the test pages from the same origin. It is
// not Errand's handler: it lets a test decide every answer, including the bad ones (a
// buffering proxy, a network that is down, a 503 with Retry-After).
//
// Each job holds one current status. `set()` makes the next one (version + 1) and writes it
// to every open stream of that job; a stream ends right after a final state. A stream
// request sends `retry:`, then the current status, then every change — so a reconnect with
// Last-Event-ID gets the current status at once — or 204 when Last-Event-ID is the version
// of a final status.
import { randomBytes, randomUUID } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";

import type { JobStatusJSON } from "@errand/client";

/** One request the fixture saw. */
export interface SeenRequest {
  method: string;
  /** `status` (the JSON URL), `events` (the stream), or `other` (pages, routes). */
  kind: "status" | "events" | "other";
  path: string;
  /** The Last-Event-ID header of a stream request. */
  lastEventId: string | undefined;
  /** The HTTP status answered, `"destroyed"` while the network was down, `"held"` by the buffering stream. */
  answer: number | "destroyed" | "held";
}

/** A job the fixture serves. */
export interface FixtureJob {
  id: string;
  token: string;
  /** The status URL as the app would hand it to the page: `/jobs/<id>?token=<token>`. */
  statusUrl: string;
  /** The current status. */
  readonly current: JobStatusJSON;
  /** Makes the next status from `change` (version + 1, updatedAt now) and pushes it to open streams. */
  set(change: Partial<Omit<JobStatusJSON, "id" | "version">>): JobStatusJSON;
}

/** Options of {@link startStatusFixture}. */
export interface StatusFixtureOptions {
  /** The `retry:` (ms) sent to EventSource, its reconnect delay. Default 100. */
  retryMs?: number;
  /** Heartbeat comment interval in ms. Default 15000, as the real handler. */
  heartbeatMs?: number;
}

/** A route handler for pages and app endpoints a test adds. */
export type Route = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

/** The running fixture. */
export interface StatusFixture {
  /** Origin, such as `http://127.0.0.1:41234`. */
  origin: string;
  /** Every request, in arrival order. */
  requests: SeenRequest[];
  /** Creates a job (queued, no progress) with a random id and token. */
  job(initial?: Partial<Omit<JobStatusJSON, "id" | "version">>): FixtureJob;
  /** Answers `method path` (exact path, query ignored) with `route`. */
  route(method: string, path: string, route: Route): void;
  /** Serves `body` at `path` for GET. */
  serve(path: string, contentType: string, body: string): void;
  /** `"buffering"`: stream requests get 200 and headers, then nothing (a proxy that buffers). Default `"live"`. */
  streams: "live" | "buffering";
  /** `"down"`: every request's connection is destroyed unanswered. Default `"up"`. */
  network: "up" | "down";
  /** The next `count` status (JSON) requests answer `status` with `Retry-After: retryAfter` seconds. */
  failStatusRequests(count: number, status: number, retryAfter?: number): void;
  /** Destroys the connection of every open stream (a cut mid-stream). */
  cutStreams(): void;
  /** How many streams are open now. */
  readonly openStreams: number;
  close(): Promise<void>;
}

const FINAL = new Set(["succeeded", "failed", "dead"]);

/** Starts the fixture on a free loopback port. */
export async function startStatusFixture(options: StatusFixtureOptions = {}): Promise<StatusFixture> {
  const { retryMs = 100, heartbeatMs = 15_000 } = options;
  const jobs = new Map<string, { job: FixtureJob; streams: Set<ServerResponse> }>();
  const routes = new Map<string, Route>();
  const requests: SeenRequest[] = [];
  const streams = new Set<ServerResponse>();
  let failures: { count: number; status: number; retryAfter: number | undefined } = { count: 0, status: 0, retryAfter: undefined };

  const json = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
    response.end(JSON.stringify(body));
    return status;
  };
  const event = (status: JobStatusJSON) => `id: ${status.version}\nevent: status\ndata: ${JSON.stringify(status)}\n\n`;

  const openStream = (request: IncomingMessage, response: ServerResponse, entry: { job: FixtureJob; streams: Set<ServerResponse> }) => {
    const { current } = entry.job;
    if (request.headers["last-event-id"] === current.version && FINAL.has(current.state)) {
      response.writeHead(204).end();
      return 204;
    }
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    response.flushHeaders();
    streams.add(response);
    const buffering = fixture.streams === "buffering";
    const heartbeat = buffering ? undefined : setInterval(() => response.write(": hb\n\n"), heartbeatMs);
    response.on("close", () => {
      streams.delete(response);
      entry.streams.delete(response);
      clearInterval(heartbeat);
    });
    if (buffering) return "held" as const;
    entry.streams.add(response);
    response.write(`retry: ${retryMs}\n\n${event(current)}`);
    if (FINAL.has(current.state)) response.end();
    return 200;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://fixture");
    const match = /^\/jobs\/([^/]+)(\/events)?$/.exec(url.pathname);
    const seen: SeenRequest = {
      method: request.method ?? "GET",
      kind: match ? (match[2] ? "events" : "status") : "other",
      path: url.pathname,
      lastEventId: request.headers["last-event-id"] as string | undefined,
      answer: 0,
    };
    requests.push(seen);
    if (fixture.network === "down") {
      request.socket.destroy();
      seen.answer = "destroyed";
      return;
    }
    if (!match) {
      const route = routes.get(`${seen.method} ${url.pathname}`);
      if (route) await route(request, response);
      else json(response, 404, { error: "not_found", message: `no route ${seen.method} ${url.pathname}` });
      seen.answer = response.statusCode;
      return;
    }
    const entry = jobs.get(decodeURIComponent(match[1]!));
    if (seen.kind === "status" && failures.count > 0) {
      failures.count -= 1;
      const headers: Record<string, string> = failures.retryAfter === undefined ? {} : { "retry-after": String(failures.retryAfter) };
      seen.answer = json(response, failures.status, { error: "unavailable", message: "status backend unreachable" }, headers);
    } else if (!entry) {
      seen.answer = json(response, 404, { error: "not_found", message: "no such job" });
    } else if (url.searchParams.get("token") !== entry.job.token) {
      seen.answer = json(response, 403, { error: "forbidden", message: "missing, forged or expired token" });
    } else if (seen.kind === "events") {
      seen.answer = openStream(request, response, entry);
    } else {
      seen.answer = json(response, 200, entry.job.current);
    }
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) json(response, 500, { error: "fixture_error", message: String(error) });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };

  const fixture: StatusFixture = {
    origin: `http://127.0.0.1:${port}`,
    requests,
    streams: "live",
    network: "up",
    get openStreams() {
      return streams.size;
    },
    job(initial = {}) {
      const id = randomUUID();
      const token = randomBytes(12).toString("hex");
      const now = new Date().toISOString();
      let version = 1;
      let current: JobStatusJSON = {
        ...{ id, job: "ReportJob", queue: "default", priority: 0, state: "queued", executions: 0, progress: null, result: null, error: null },
        ...{ enqueuedAt: now, scheduledAt: now, startedAt: null, finishedAt: null, updatedAt: now },
        ...initial,
        id,
        version: "1",
      };
      const entry = {
        streams: new Set<ServerResponse>(),
        job: {
          id,
          token,
          statusUrl: `/jobs/${id}?token=${token}`,
          get current() {
            return current;
          },
          set(change: Partial<JobStatusJSON>) {
            version += 1;
            current = { ...current, ...change, id, version: String(version), updatedAt: new Date().toISOString() };
            for (const stream of entry.streams) {
              stream.write(event(current));
              if (FINAL.has(current.state)) stream.end();
            }
            return current;
          },
        },
      };
      jobs.set(id, entry);
      return entry.job;
    },
    route(method, path, route) {
      routes.set(`${method.toUpperCase()} ${path}`, route);
    },
    serve(path, contentType, body) {
      routes.set(`GET ${path}`, (_request, response) => {
        response.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
        response.end(body);
      });
    },
    failStatusRequests(count, status, retryAfter) {
      failures = { count, status, retryAfter };
    },
    cutStreams() {
      for (const stream of streams) stream.socket?.destroy();
    },
    async close() {
      for (const stream of streams) stream.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
  return fixture;
}
