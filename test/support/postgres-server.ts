// Where the PostgreSQL for the tests comes from: DATABASE_URL, else 127.0.0.1:5432, else a
// disposable cluster started with the machine's initdb/pg_ctl in a temporary directory.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, chownSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import pg from "pg";

import { freePort } from "./ports.js";

type Found = { url: string; stop?: () => Promise<void> } | { error: string };

const HOW_TO =
  "PostgreSQL is needed: set DATABASE_URL=postgres://user@host:5432/db, or start the local server " +
  "(pg_ctlcluster $(ls /etc/postgresql) main start), or install it (apt-get install postgresql)";

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function postgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  return version && existsSync(join(root, version, "bin", "initdb")) ? join(root, version, "bin") : undefined;
}

async function disposable(): Promise<Found> {
  const bin = postgresBin();
  if (!bin) return { error: `${HOW_TO} (no server reachable, and no initdb found to start a disposable one)` };
  const dir = mkdtempSync(join(tmpdir(), "errand-pg-"));
  const port = await freePort();
  // initdb refuses to run as root: run the cluster as the postgres user when we are root.
  const asUser = process.getuid?.() === 0 ? ["runuser", "-u", "postgres", "--"] : [];
  if (asUser.length) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), Number(execFileSync("id", ["-g", "postgres"]).toString()));
  const run = (command: string, args: string[]) => {
    const [file, ...rest] = [...asUser, join(bin, command), ...args];
    return spawnSync(file!, rest, { encoding: "utf8" });
  };
  const init = run("initdb", ["-D", join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8"]);
  if (init.status !== 0) return { error: `${HOW_TO} (a disposable server could not be created: ${init.stderr.trim().split("\n").pop()})` };
  const start = run("pg_ctl", ["-D", join(dir, "data"), "-w", "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "-l", join(dir, "log"), "start"]);
  if (start.status !== 0) return { error: `${HOW_TO} (a disposable server did not start: ${start.stderr.trim()})` };
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    stop: async () => {
      run("pg_ctl", ["-D", join(dir, "data"), "-m", "immediate", "stop"]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The PostgreSQL the tests use, or why there is none. */
export async function findPostgres(): Promise<Found> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) return (await reachable(fromEnv)) ? { url: fromEnv } : { error: `DATABASE_URL=${fromEnv} is not reachable. ${HOW_TO}` };
  const local = "postgres://postgres@127.0.0.1:5432/test";
  if (await reachable(local)) return { url: local };
  return disposable();
}
