// A disposable three-node Redis Cluster for the tests that need one: three `redis-server
// --cluster-enabled yes` processes on free loopback ports (each in its own temp dir, via
// startRedisServer), joined by `redis-cli --cluster create`, returned once every node sees
// the whole cluster as healthy.
import { execFile } from "node:child_process";
import { join } from "node:path";

import { Redis } from "ioredis";

import { freePort } from "./ports.js";
import { startRedisServer } from "./redis-server.js";

export interface RedisClusterNode {
  host: string;
  port: number;
}

export interface StartedRedisCluster {
  /** The master nodes, one per process; any of them serves as a startup node. */
  nodes: RedisClusterNode[];
  /** Kills every process and removes their temp dirs. */
  stop(): Promise<void>;
}

export const REDIS_CLUSTER_HOW_TO =
  "a Redis Cluster is started from the local redis-server and redis-cli (Redis >= 7.0, for --cluster-port): " +
  "install them with apt-get install redis-server (or redis-tools for redis-cli alone), or put them on PATH";

const HOST = "127.0.0.1";
const SLOTS = 16384;

/** `count` distinct free ports (freePort may hand back one it gave a moment ago). */
async function distinctPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = await freePort();
    if (port !== 6379) ports.add(port);
  }
  return [...ports];
}

/** Runs `redis-cli` with `args`; resolves to its error (with output), or undefined on success. */
function redisCli(args: string[], timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile("redis-cli", args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (!error) return resolve(undefined);
      const output = `${stdout}${stderr}`.trim().split("\n").slice(-5).join(" | ");
      resolve(`${error.message}${output ? `: ${output}` : ""}`);
    });
  });
}

/** CLUSTER INFO of one node as fields, or why it could not be read. */
async function clusterInfo(port: number): Promise<Record<string, string> | string> {
  const client = new Redis({ host: HOST, port, lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const text = (await client.call("CLUSTER", "INFO")) as string;
    return Object.fromEntries(text.split("\r\n").filter(Boolean).map((line) => line.split(":") as [string, string]));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    client.disconnect();
  }
}

/**
 * Whether every node reports the cluster healthy: state ok, all slots assigned and none
 * failing, and all three nodes known. A node's view converges by gossip after `--cluster
 * create`, and a client handed a node that has not caught up would get a partial slot map.
 */
async function healthy(ports: readonly number[]): Promise<true | string> {
  for (const port of ports) {
    const info = await clusterInfo(port);
    if (typeof info === "string") return `node ${port}: ${info}`;
    const ok =
      info.cluster_state === "ok" &&
      Number(info.cluster_slots_assigned) === SLOTS &&
      Number(info.cluster_slots_ok) === SLOTS &&
      Number(info.cluster_known_nodes) === ports.length;
    if (!ok) {
      return `node ${port}: state ${info.cluster_state}, ${info.cluster_slots_assigned}/${SLOTS} slots assigned, ${info.cluster_known_nodes} nodes known`;
    }
  }
  return true;
}

/** Starts a three-node cluster (three masters, no replicas), or says what failed and how to get one. */
export async function startRedisCluster(options: { size?: number; timeoutMs?: number } = {}): Promise<StartedRedisCluster | { error: string }> {
  const size = options.size ?? 3;
  const timeoutMs = options.timeoutMs ?? 20_000;
  // Two ports per node: clients, and the cluster bus, which defaults to port + 10000 and would
  // overflow 65535 for the high ephemeral ports freePort gives, so it is set explicitly.
  const ports = await distinctPorts(2 * size);
  const servers: { stop: () => Promise<void> }[] = [];
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  const fail = async (what: string) => {
    await stop();
    return { error: `Redis Cluster could not be started: ${what}. ${REDIS_CLUSTER_HOW_TO}` };
  };

  const started = await Promise.all(
    Array.from({ length: size }, (_, index) =>
      startRedisServer(ports[index]!, (dir) => [
        "--cluster-enabled", "yes",
        "--cluster-port", String(ports[size + index]),
        // Each node's own state file, in its own temp dir (removed by stop()).
        "--cluster-config-file", join(dir, "nodes.conf"),
        // Short, so a node is judged failed fast: nothing here waits on failover, and nodes agree sooner.
        "--cluster-node-timeout", "1000",
      ]),
    ),
  );
  for (const server of started) if ("stop" in server) servers.push(server);
  const notStarted = started.find((server): server is { error: string } => "error" in server);
  if (notStarted) return fail(notStarted.error);

  const masters = ports.slice(0, size);
  const created = await redisCli(
    ["--cluster", "create", ...masters.map((port) => `${HOST}:${port}`), "--cluster-replicas", "0", "--cluster-yes"],
    timeoutMs,
  );
  if (created) return fail(`redis-cli --cluster create failed (${created})`);

  const deadline = Date.now() + timeoutMs;
  let state = await healthy(masters);
  while (state !== true) {
    if (Date.now() >= deadline) return fail(`the cluster was not healthy within ${timeoutMs} ms (${state})`);
    // A short pause between polls of CLUSTER INFO, not a wait for anything in particular.
    await new Promise((resolve) => setTimeout(resolve, 25));
    state = await healthy(masters);
  }
  return { nodes: masters.map((port) => ({ host: HOST, port })), stop };
}
