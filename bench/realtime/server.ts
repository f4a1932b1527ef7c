/**
 * The server under test, one child process: a runtime on Redis (the scenario's own key
 * prefix) and `jobStatusHandler({ basePath: "/jobs", secret })` behind `toNodeHandler` on
 * `node:http`. It runs nothing else, so its memory and CPU are the status routes' own.
 *
 *   node --expose-gc bench/dist/realtime/server.js '<{ url, prefix, secret, heartbeatMs }>'
 *
 * Notes `ready` with its port. Calls (see ipc.ts):
 * - `stats { gc }`: `process.memoryUsage()` (after two full GCs when `gc`), `process.cpuUsage()`,
 *   open event streams, jobs and watchers in the status hub, requests and connections so far;
 * - `snapshot { label }`: writes a heap snapshot to bench/results/profiles/, answers its path;
 * - `close`: ends the streams, closes the server and the runtime, exits.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeHeapSnapshot } from "node:v8";

import { configure, jobStatusHandler, statusWatchers, toNodeHandler } from "@errand/core";

import { collect } from "../lib/stats.js";
import { note, serve } from "./ipc.js";

/** What the parent passes on the command line. */
export interface ServerParams {
  url: string;
  prefix: string;
  secret: string;
  heartbeatMs: number;
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
}

const params = JSON.parse(process.argv[2] ?? "null") as ServerParams | null;
if (!params) throw new Error("server.ts is started by bench/dist/realtime/run.js with its parameters as JSON");

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

serve({
  stats: async ({ gc }: { gc: boolean }): Promise<ServerStats> => {
    if (gc) collect();
    const hub = await statusWatchers({ runtime });
    return { memory: process.memoryUsage(), cpu: process.cpuUsage(), openStreams: handler.openStreams, hub, requests, connections };
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
