/**
 * A client process: many browser pages at once, each on its own TCP connection through
 * raw `node:http` (a page costs a socket and a small record, so one process holds 5,000).
 *
 *   node bench/dist/realtime/client.js
 *
 * Calls (see ipc.ts):
 * - `open { urls, maxConnecting }`: one Server-Sent Events stream per URL (at most
 *   `maxConnecting` connecting at once); answers when every stream has had its first
 *   status event, or failed;
 * - `record { on, from }`: from now on (or no longer) each progress event whose message is
 *   `t=<send time>`, sent at `from` or later, adds `now − send time` to the latency
 *   histogram; `on` also resets the histogram and the counts;
 * - `collect`: the histogram, events and heartbeats received, streams the server ended,
 *   errors, this process's CPU;
 * - `close`: destroys every stream; answers when all sockets are closed;
 * - `poll { urls, intervalMs, durationMs }`: each URL is a page polling `GET /jobs/:id`
 *   every `intervalMs` on its own keep-alive connection (first polls spread evenly over one
 *   interval) for `durationMs`; answers requests made, answered, failed and their latency.
 */
import { Agent, request, type ClientRequest, type IncomingMessage } from "node:http";

import { Histogram, type HistogramData } from "./histogram.js";
import { serve, wallNow } from "./ipc.js";

/** What `collect` answers. */
export interface ClientReport {
  latency: HistogramData;
  /**
   * The latency split at the status's `updatedAt`, which Redis's clock sets when
   * set-progress stores it (whole ms; negative parts count as 0): `progress()` → stored
   * (the worker's batcher and script), and stored → received (feed, server, socket).
   */
  toStore: HistogramData;
  fromStore: HistogramData;
  /** Progress events received while recording, sent since it began (first events excluded). */
  events: number;
  /** Progress events while recording that carried no readable send time. */
  unstamped: number;
  /** Progress events while recording sent before it began (an earlier round's). */
  stale: number;
  heartbeats: number;
  /** Streams the server ended (a terminal status, or it shut them down). */
  endedByServer: number;
  errors: number;
  firstErrors: string[];
  /** This process's CPU since recording began, µs. */
  cpu: { user: number; system: number };
}

/** What `poll` answers. */
export interface PollReport {
  requests: number;
  ok: number;
  failed: number;
  firstErrors: string[];
  latency: HistogramData;
  elapsedMs: number;
}

interface Stream {
  req: ClientRequest;
  buffer: string;
  first: boolean;
  done: boolean;
}

const STAMP = '"message":"t=';
const UPDATED = '"updatedAt":"';
/** An ISO date as `toISOString` writes it: 2026-12-03T10:37:51.123Z. */
const ISO_LENGTH = 24;
const streams = new Set<Stream>();
const latency = new Histogram();
/** `updatedAt` (Redis's clock when set-progress stored it, ms) − send time: the worker's part. */
const toStore = new Histogram();
/** Receipt − `updatedAt`: the server's part (feed, read, fan-out, socket) and the client's. */
const fromStore = new Histogram();
let recording = false;
let cpuAtRecord = process.cpuUsage();
/** Events sent before this wall-clock time (an earlier round's, late) are not counted. */
let since = 0;
let stale = 0;
let events = 0;
let unstamped = 0;
let heartbeats = 0;
let endedByServer = 0;
let errors = 0;
const firstErrors: string[] = [];

function failed(message: string): void {
  errors++;
  if (firstErrors.length < 5) firstErrors.push(message);
}

/** Splits the buffered text into events (blank-line separated) and handles each. */
function consume(stream: Stream, chunk: string, onFirst: () => void): void {
  const now = wallNow();
  stream.buffer += chunk;
  let end: number;
  while ((end = stream.buffer.indexOf("\n\n")) >= 0) {
    const block = stream.buffer.slice(0, end);
    stream.buffer = stream.buffer.slice(end + 2);
    if (block.startsWith(":")) {
      if (recording) heartbeats++;
      continue;
    }
    if (!block.includes("\nevent: status\n")) continue; // the `retry:` block
    if (!stream.first) {
      // The first event is the status as it was when the stream opened: checked, not timed.
      stream.first = true;
      const data = block.slice(block.indexOf("\ndata: ") + 7);
      const status = JSON.parse(data) as { state?: string };
      if (status.state !== "running") failed(`first status is ${status.state}, not running`);
      onFirst();
      continue;
    }
    if (!recording) continue;
    const at = block.indexOf(STAMP);
    const sent = at < 0 ? NaN : Number.parseFloat(block.slice(at + STAMP.length, block.indexOf('"', at + STAMP.length)));
    if (!Number.isFinite(sent)) {
      unstamped++;
      continue;
    }
    if (sent < since) {
      stale++;
      continue;
    }
    events++;
    latency.record(now - sent);
    const u = block.indexOf(UPDATED);
    const stored = u < 0 ? NaN : Date.parse(block.slice(u + UPDATED.length, u + UPDATED.length + ISO_LENGTH));
    if (Number.isFinite(stored)) {
      toStore.record(stored - sent);
      fromStore.record(now - stored);
    }
  }
}

function openStream(url: string, firstEvent: Histogram): Promise<void> {
  const started = performance.now();
  return new Promise<void>((resolve) => {
    let settled = false;
    const settle = () => {
      if (!settled) {
        settled = true;
        firstEvent.record(performance.now() - started);
        resolve();
      }
    };
    const req = request(url, { agent: false, headers: { accept: "text/event-stream" } });
    const stream: Stream = { req, buffer: "", first: false, done: false };
    streams.add(stream);
    req.on("response", (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        failed(`GET …/events answered ${res.statusCode}`);
        res.resume();
        req.destroy();
        return;
      }
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => consume(stream, chunk, settle));
      res.on("end", () => {
        if (!stream.done) endedByServer++;
      });
    });
    req.on("error", (error) => {
      if (!stream.done) failed(error.message);
    });
    req.on("close", () => {
      streams.delete(stream);
      settle();
    });
    req.end();
  });
}

/** What `open` answers. */
export interface OpenReport {
  opened: number;
  errors: number;
  firstErrors: string[];
  /** Request sent → first status event, per stream. */
  firstEvent: HistogramData;
}

async function open({ urls, maxConnecting }: { urls: string[]; maxConnecting: number }): Promise<OpenReport> {
  const firstEvent = new Histogram();
  let next = 0;
  const lane = async () => {
    while (next < urls.length) await openStream(urls[next++]!, firstEvent);
  };
  await Promise.all(Array.from({ length: Math.min(maxConnecting, urls.length) }, lane));
  return { opened: streams.size, errors, firstErrors: [...firstErrors], firstEvent: firstEvent.toJSON() };
}

async function close(): Promise<{ closed: number }> {
  const all = [...streams];
  await Promise.all(
    all.map(
      (stream) =>
        new Promise<void>((resolve) => {
          stream.done = true;
          if (stream.req.destroyed && !streams.has(stream)) return resolve();
          stream.req.once("close", () => resolve());
          stream.req.destroy();
        }),
    ),
  );
  return { closed: all.length };
}

async function poll({ urls, intervalMs, durationMs }: { urls: string[]; intervalMs: number; durationMs: number }): Promise<PollReport> {
  const report = { requests: 0, ok: 0, failed: 0, firstErrors: [] as string[] };
  const times = new Histogram();
  const agents: Agent[] = [];
  const inFlight = new Set<Promise<void>>();
  const timers: NodeJS.Timeout[] = [];
  const once = (url: string, agent: Agent) => {
    report.requests++;
    const started = performance.now();
    const done = new Promise<void>((resolve) => {
      const req = request(url, { agent }, (res) => {
        res.resume();
        res.on("end", () => {
          times.record(performance.now() - started);
          if (res.statusCode === 200) report.ok++;
          else fail(`GET /jobs/:id answered ${res.statusCode}`);
          resolve();
        });
      });
      const fail = (message: string) => {
        report.failed++;
        if (report.firstErrors.length < 5) report.firstErrors.push(message);
      };
      req.on("error", (error) => {
        fail(error.message);
        resolve();
      });
      req.end();
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };
  const begun = performance.now();
  urls.forEach((url, i) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    timers.push(
      setTimeout(() => {
        once(url, agent);
        timers.push(setInterval(() => once(url, agent), intervalMs));
      }, (i * intervalMs) / urls.length),
    );
  });
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  for (const timer of timers) clearTimeout(timer);
  await Promise.all(inFlight);
  const elapsedMs = performance.now() - begun;
  for (const agent of agents) agent.destroy();
  return { ...report, latency: times.toJSON(), elapsedMs };
}

serve({
  open,
  record: ({ on, from }: { on: boolean; from?: number }) => {
    recording = on;
    if (on) {
      cpuAtRecord = process.cpuUsage();
      since = from ?? 0;
      latency.reset();
      toStore.reset();
      fromStore.reset();
      events = unstamped = stale = heartbeats = 0;
    }
  },
  collect: (): ClientReport => ({
    latency: latency.toJSON(),
    toStore: toStore.toJSON(),
    fromStore: fromStore.toJSON(),
    events,
    unstamped,
    stale,
    heartbeats,
    endedByServer,
    errors,
    firstErrors: [...firstErrors],
    cpu: process.cpuUsage(cpuAtRecord),
  }),
  close,
  poll,
});
