/**
 * The Lua scripts (`lua/*.lua`, one per multi-key step, each with a header listing KEYS,
 * ARGV and the return value), defined on the ioredis client as commands. ioredis runs a
 * command by EVALSHA and falls back on EVAL (which loads the script) when the server
 * answers NOSCRIPT — after a restart, a failover or SCRIPT FLUSH — so each script crosses
 * the network once per server.
 *
 * A script may share code: a line `--!include <file>.lua` is replaced by that file of `lua/`
 * when the script is read (`flow-lib.lua`, the concurrency steps of several scripts). Such a
 * file is no command itself.
 *
 * Command names carry the package version (`errand_0_1_0_reserve`): an app that shares its
 * own client between two versions of this package never runs the other version's script
 * under the same name.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import type { ChainableCommander, Cluster, Redis } from "ioredis";

const LUA_DIR = fileURLToPath(new URL("../lua/", import.meta.url));
const VERSION = (JSON.parse(readFileSync(fileURLToPath(new URL("../package.json", import.meta.url)), "utf8")) as { version: string }).version;

/**
 * Each script and how many of its arguments are keys; `null` when the caller names them per
 * call (the status store's scripts take one key per job, all under one hash tag).
 */
const SCRIPTS = {
  enqueue: 2,
  "enqueue-flow": 1,
  reserve: 6,
  settle: 7,
  "extend-leases": 2,
  "set-progress": 1,
  "revive-dead": 2,
  "purge-dead": 1,
  retire: 1,
  "flow-sweep": 1,
  "job-read": 1,
  "queue-counts": 9,
  "list-jobs": 9,
  "control-jobs": 6,
  "control-beat": 5,
  "control-mark": 2,
  "control-read": 1,
  migrate: 1,
  "migrate-ready": 4,
  "migrate-done": 4,
  "status-enqueued": null,
  "status-started": null,
  "status-stale": null,
  "status-settled": null,
  "status-progress": null,
  "status-delete": null,
  "status-list": 1,
  "status-figures": 1,
  "status-control-jobs": 1,
  "batch-open": null,
  "batch-seal": null,
} as const satisfies Record<string, number | null>;

export type ScriptName = keyof typeof SCRIPTS;

/** The command name a script is defined under on the client. */
export function commandName(script: ScriptName): string {
  return `errand_${VERSION.replace(/\W/g, "_")}_${script.replace(/-/g, "_")}`;
}

/** Defines every script on `client` (a no-op for those it has already). */
export function defineScripts(client: Redis | Cluster): void {
  for (const [script, numberOfKeys] of Object.entries(SCRIPTS) as [ScriptName, number | null][]) {
    const name = commandName(script);
    if (typeof (client as unknown as Record<string, unknown>)[name] === "function") continue;
    const lua = readLua(`${script}.lua`);
    // Without numberOfKeys, ioredis takes the key count as the command's first argument.
    client.defineCommand(name, numberOfKeys === null ? { lua } : { numberOfKeys, lua });
  }
}

/** A script's text with its `--!include` lines replaced. */
export function readLua(file: string): string {
  return readFileSync(`${LUA_DIR}${file}`, "utf8").replace(/^--!include (\S+)$/gm, (_, included: string) => readFileSync(`${LUA_DIR}${included}`, "utf8"));
}

type Arg = string | number;

/** The keys as the command takes them: preceded by their count when the script's count varies. */
function keyArgs(script: ScriptName, keys: readonly string[]): readonly Arg[] {
  return SCRIPTS[script] === null ? [keys.length, ...keys] : keys;
}

/** Runs a script on the client. */
export function runScript<T>(client: Redis | Cluster, script: ScriptName, keys: readonly string[], args: readonly Arg[]): Promise<T> {
  const command = (client as unknown as Record<string, (...args: Arg[]) => Promise<T>>)[commandName(script)]!;
  return command.call(client, ...keyArgs(script, keys), ...args);
}

/** Queues a script on a pipeline. */
export function queueScript(pipeline: ChainableCommander, script: ScriptName, keys: readonly string[], args: readonly Arg[]): void {
  const command = (pipeline as unknown as Record<string, (...args: Arg[]) => unknown>)[commandName(script)]!;
  command.call(pipeline, ...keyArgs(script, keys), ...args);
}
