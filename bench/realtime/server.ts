/**
 * The server under test, one child process: a runtime on Redis (the scenario's own key
 * prefix) and `jobStatusHandler({ basePath: "/jobs", secret })` behind `toNodeHandler` on
 * `node:http`. It runs nothing else, so its memory and CPU are the status routes' own.
 *
 *   node --expose-gc bench/dist/realtime/server.js '<{ url, prefix, secret, heartbeatMs, split }>'
 *
 * Notes `ready` with its port. Calls (see ipc.ts):
 * - `record { from }`: (re)starts the `written` histogram for events sent since `from`;
 * - `stats { gc }`: `process.memoryUsage()` (after two full GCs when `gc`), `process.cpuUsage()`,
 *   open event streams, jobs and watchers in the status hub, requests and connections so far;
 * - `profile { path }`: starts a CPU profile to be written to `path` (stopping and writing
 *   the one running), or with `path: null` only stops and writes it;
 * - `snapshot { label }`: writes a heap snapshot to bench/results/profiles/, answers its path;
 * - `close`: ends the streams, closes the server and the runtime, exits.
 */
import { createServer, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeHeapSnapshot } from "node:v8";

import { configure, jobStatusHandler, statusWatchers, toNodeHandler } from "@errand/core";

import { TimedProfile } from "../lib/profile.js";
import { collect } from "../lib/stats.js";
import { Histogram, type HistogramData } from "./histogram.js";
import { note, serve, wallNow } from "./ipc.js";

/** What the parent passes on the command line. */
export interface ServerParams {
  url: string;
  prefix: string;
  secret: string;
  heartbeatMs: number;
  /** Stamp each progress event as it is written to its socket (see `written`). */
  split: boolean;
}

/** One reading of the server's process. */
export interface ServerStats {
  memory: NodeJS.MemoryUsage;
  /** `process.cpuUsage()` so far, µs. */
  cpu: { user: number; system: number };
  openStreams: number;
  hub: { jobs: number; watchers: number };
  requests: number;
  connections: number;
  /**
   * With `split`, since `record`: `progress()` → this process hands the event to its socket
   * (`res.write`), from the event's send time; the rest of the latency is the kernel and the
   * client.
   */
  written: HistogramData | null;
}

const params = JSON.parse(process.argv[2] ?? "null") as ServerParams | null;
if (!params) throw new Error("server.ts is started by bench/dist/realtime/run.js with its parameters as JSON");

const written = params.split ? new Histogram() : undefined;
let since = Infinity;
if (written) {
  // Bench instrumentation only (off by default, so CPU figures carry none of it): every
  // chunk the status routes write passes here.
  const STAMP = Buffer.from('"message":"t=');
  const write = ServerResponse.prototype.write;
  ServerResponse.prototype.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    if (chunk instanceof Uint8Array) {
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const at = bytes.indexOf(STAMP);
      if (at >= 0) {
        const start = at + STAMP.length;
        const sent = Number.parseFloat(bytes.toString("latin1", start, bytes.indexOf(34, start)));
        if (sent >= since) written.record(wallNow() - sent);
      }
    }
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof write;
}

const runtime = configure({ adapter: { use: "redis", url: params.url, prefix: params.prefix }, worker: { embedded: false } });
await runtime.adapterFor();
const handler = jobStatusHandler({ basePath: "/jobs", secret: params.secret, runtime, heartbeat: params.heartbeatMs });
const server = createServer(toNodeHandler(handler));
// Requests arrive in bursts of up to 10,000 connects: the kernel's accept queue (somaxconn
// 4096 here) must not drop SYNs, or a connect waits a 1 s retransmit.
const BACKLOG = 4096;
let requests = 0;
let connections = 0;
server.on("request", () => requests++);
server.on("connection", () => connections++);
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", BACKLOG, resolve));

let profile: TimedProfile | undefined;

serve({
  profile: async ({ path }: { path: string | null }) => {
    await profile?.stop();
    profile = undefined;
    if (path) {
      profile = new TimedProfile({ profile: path });
      await profile.start();
    }
  },
  stats: async ({ gc }: { gc: boolean }): Promise<ServerStats> => {
    if (gc) collect();
    const hub = await statusWatchers({ runtime });
    return { memory: process.memoryUsage(), cpu: process.cpuUsage(), openStreams: handler.openStreams, hub, requests, connections, written: written?.toJSON() ?? null };
  },
  record: ({ from }: { from: number }) => {
    since = from;
    written?.reset();
  },
  snapshot: ({ label }: { label: string }) => {
    const dir = fileURLToPath(new URL("../../results/profiles/", import.meta.url));
    mkdirSync(dir, { recursive: true });
    return writeHeapSnapshot(join(dir, `realtime-server-${process.pid}-${label}.heapsnapshot`));
  },
  close: async () => {
    handler.closeStreams();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await runtime.close();
    setImmediate(() => process.exit(0));
  },
});
note("ready", (server.address() as AddressInfo).port);
