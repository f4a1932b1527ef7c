/**
 * The Redis servers of the cluster bench, all started here and all gone when it ends: a
 * standalone `redis-server` and a Redis Cluster of three masters (three `redis-server
 * --cluster-enabled yes` processes joined by `redis-cli --cluster create`), each on free
 * loopback ports, each in a temp dir of its own, with the same settings (no persistence).
 *
 * Life cycle of a server: spawned → answering PING → (killed: SIGKILL, then its temp dir is
 * removed). `stopAll` stops every server started so far; it also runs synchronously on
 * process exit and on SIGINT/SIGTERM, so an interrupted bench leaves no process or dir.
 *
 * These servers are private to the bench (nothing else knows their ports), which is why
 * `flush` may empty them between runs; the shared Redis on 6379 is never touched.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { Redis } from "ioredis";

/** One server process of the bench. */
export interface Server {
  host: string;
  port: number;
}

const HOST = "127.0.0.1";
const SLOTS = 16384;
const running: { child: ChildProcess; dir: string; port: number }[] = [];

/** Kills every server started (SIGKILL) and removes their temp dirs; synchronous, so it also runs at exit. */
export function stopAll(): void {
  for (const { child, dir } of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}
process.once("exit", stopAll);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    stopAll();
    process.exit(130);
  });
}

/** A loopback port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on("error", reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** `count` distinct free ports, none of them 6379 (the shared Redis). */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = await freePort();
    if (port !== 6379) ports.add(port);
  }
  return [...ports];
}

/** A short-lived client that gives up at once when the server is not there. */
export function connectTo(server: Server): Redis {
  const client = new Redis({ host: server.host, port: server.port, lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  return client;
}

/** Sends one command to `server` on a fresh connection. */
export async function command(server: Server, name: string, ...args: (string | number)[]): Promise<unknown> {
  const client = connectTo(server);
  try {
    await client.connect();
    return await client.call(name, ...args);
  } finally {
    client.disconnect();
  }
}

/** A pause between polls; not a wait for anything in particular. */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts one `redis-server` with `extra(dir)` added to the common settings; resolves once it answers PING. */
async function startServer(port: number, extra: (dir: string) => string[]): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), "errand-bench-redis-"));
  const child = spawn("redis-server", ["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", dir, ...extra(dir)], { stdio: "ignore" });
  running.push({ child, dir, port });
  let failure: string | undefined;
  child.once("error", (error) => (failure = `redis-server could not be started: ${error.message} (apt-get install redis-server)`));
  const server = { host: HOST, port };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (failure) throw new Error(failure);
    if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with code ${child.exitCode}`);
    if ((await command(server, "PING").catch(() => undefined)) === "PONG") return server;
    await pause(25);
  }
  throw new Error(`redis-server on port ${port} did not answer within 10 s`);
}

/** A standalone redis-server with the bench's settings. */
export async function startStandalone(): Promise<Server> {
  const [port] = await freePorts(1);
  return startServer(port!, () => []);
}

/** Fields of an INFO-style reply (`key:value` lines). */
export function fields(text: string): Record<string, string> {
  return Object.fromEntries(text.split("\r\n").filter((line) => line.includes(":") && !line.startsWith("#")).map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1)]));
}

/** Whether every node sees a healthy cluster of `nodes.length` masters with every slot served. */
async function healthy(nodes: readonly Server[]): Promise<true | string> {
  for (const node of nodes) {
    const info = fields(String(await command(node, "CLUSTER", "INFO").catch((error: Error) => `error:${error.message}`)));
    const ok = info.cluster_state === "ok" && Number(info.cluster_slots_ok) === SLOTS && Number(info.cluster_known_nodes) === nodes.length;
    if (!ok) return `node ${node.port}: state ${info.cluster_state ?? info.error}, ${info.cluster_slots_ok ?? 0}/${SLOTS} slots ok, ${info.cluster_known_nodes ?? 0} nodes known`;
  }
  return true;
}

/** A cluster of `size` masters, no replicas; resolves once every node sees it healthy. */
export async function startCluster(size = 3): Promise<Server[]> {
  // The cluster bus port defaults to port + 10000, past 65535 for high ephemeral ports: set it.
  const ports = await freePorts(2 * size);
  const nodes = await Promise.all(
    Array.from({ length: size }, (_, i) =>
      startServer(ports[i]!, (dir) => ["--cluster-enabled", "yes", "--cluster-port", String(ports[size + i]), "--cluster-config-file", join(dir, "nodes.conf"), "--cluster-node-timeout", "1000"]),
    ),
  );
  await new Promise<void>((resolve, reject) =>
    execFile("redis-cli", ["--cluster", "create", ...nodes.map((n) => `${n.host}:${n.port}`), "--cluster-replicas", "0", "--cluster-yes"], { timeout: 20_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`redis-cli --cluster create failed: ${error.message} ${`${stdout}${stderr}`.trim().split("\n").slice(-3).join(" | ")}`)) : resolve(),
    ),
  );
  const deadline = Date.now() + 20_000;
  for (let state = await healthy(nodes); state !== true; state = await healthy(nodes)) {
    if (Date.now() >= deadline) throw new Error(`the cluster was not healthy within 20 s (${state})`);
    await pause(25);
  }
  return nodes;
}

/** The master serving each slot range, from CLUSTER SLOTS: `[first, last, port]`. */
export async function slotOwners(node: Server): Promise<[number, number, number][]> {
  const reply = (await command(node, "CLUSTER", "SLOTS")) as [number, number, [string, number, ...unknown[]], ...unknown[]][];
  return reply.map(([first, last, master]) => [first, last, master[1]]);
}

/** The hash slot of `key` (CLUSTER KEYSLOT), and the port of the master that serves it. */
export async function slotOf(node: Server, key: string, owners: readonly [number, number, number][]): Promise<{ slot: number; port: number }> {
  const slot = Number(await command(node, "CLUSTER", "KEYSLOT", key));
  const owner = owners.find(([first, last]) => slot >= first && slot <= last);
  if (!owner) throw new Error(`no master serves slot ${slot}`);
  return { slot, port: owner[2] };
}

/** Server CPU seconds so far (`used_cpu_sys + used_cpu_user` of INFO cpu) and commands processed. */
export async function serverCounters(server: Server): Promise<{ cpuS: number; commands: number; keys: number }> {
  const client = connectTo(server);
  try {
    await client.connect();
    const [cpu, stats, size] = await Promise.all([client.info("cpu"), client.info("stats"), client.dbsize()]);
    const c = fields(cpu);
    return { cpuS: Number(c.used_cpu_sys) + Number(c.used_cpu_user), commands: Number(fields(stats).total_commands_processed), keys: size };
  } finally {
    client.disconnect();
  }
}

/** Empties one of the bench's own servers (never the shared Redis: only servers started here have these ports). */
export async function flush(server: Server): Promise<void> {
  if (!running.some((r) => r.port === server.port)) throw new Error(`flush: port ${server.port} is not a server this bench started`);
  await command(server, "FLUSHALL");
}
