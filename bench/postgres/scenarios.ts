/**
 * The measurements, child side: each runs in its own `node --expose-gc` process (see
 * run.ts) on a library opened on a freshly dropped schema, and returns plain numbers.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

import pg from "pg";

import { measureScenario, type CostMeter, type ScenarioMeasurement, type ScenarioParams } from "../lib/scenarios.js";
import { openLibrary, type LibraryName, type Tuning } from "./libraries.js";

export interface ChildParams extends ScenarioParams {
  library: LibraryName;
  url: string;
  tuning?: Tuning;
}

export interface Measurement extends ScenarioMeasurement {
  /**
   * CPU time during the timed part of the server processes serving this child (its
   * connections' backends) and of the server's own background processes (WAL writer,
   * checkpointer, background writer, autovacuum), µs per job (when /proc shows them). Other
   * sessions' backends are left out: on a shared server they were most of the whole figure.
   */
  postgresCpuUsPerJob?: number;
  /** CPU time of every PostgreSQL process during the timed part, µs per job (other sessions' included). */
  postgresServerCpuUsPerJob?: number;
  /** WAL written during the timed part (whole server), bytes per job. */
  walBytesPerJob?: number;
}

/**
 * CPU time (user + system) of every PostgreSQL process, or of those in `only`, in µs;
 * undefined when /proc does not show them.
 */
export function postgresCpuUs(only?: ReadonlySet<number>): number | undefined {
  let ticks = 0;
  let found = false;
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid) || (only !== undefined && !only.has(Number(pid)))) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const close = stat.lastIndexOf(")");
        if (stat.slice(stat.indexOf("(") + 1, close) !== "postgres") continue;
        const fields = stat.slice(close + 2).split(" ");
        ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15 of stat)
        found = true;
      } catch {
        // the process ended meanwhile
      }
    }
  } catch {
    return undefined;
  }
  return found ? (ticks / 100) * 1e6 : undefined; // USER_HZ is 100 on Linux
}

/** The local TCP ports of this process's sockets (its connections to the server), from /proc. */
function ownPorts(): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ["/proc/self/net/tcp", "/proc/self/net/tcp6"]) {
    let lines: string[];
    try {
      lines = readFileSync(table, "utf8").trim().split("\n").slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      if (inodes.has(fields[9]!)) ports.push(parseInt(fields[1]!.split(":")[1]!, 16));
    }
  }
  return ports;
}

/** The server processes that work for this process: its connections' backends and the server's background processes. */
async function ownServerPids(client: pg.Client): Promise<Set<number>> {
  const { rows } = await client.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[]) OR backend_type <> 'client backend'",
    [ownPorts()],
  );
  return new Set(rows.map((row) => row.pid));
}

const walLsn = async (client: pg.Client) => (await client.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0]!.lsn;
const walBytesSince = async (client: pg.Client, lsn: string) =>
  Number((await client.query<{ bytes: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::text AS bytes", [lsn])).rows[0]!.bytes);

type Costs = Pick<Measurement, "nodeCpuUsPerJob" | "postgresCpuUsPerJob" | "postgresServerCpuUsPerJob" | "walBytesPerJob">;

/** CPU of this process and of the PostgreSQL server, and WAL written, from `start()` to `stop(jobs)`. */
class PostgresCosts implements CostMeter<Costs> {
  private cpu = process.cpuUsage();
  private pg: number | undefined;
  /** CPU at start of each server process then working for this process (a backend opened later starts from 0). */
  private ownAtStart = new Map<number, number>();
  private wal = "";

  constructor(private readonly client: pg.Client) {}

  async start(): Promise<void> {
    const pids = await ownServerPids(this.client);
    this.wal = await walLsn(this.client);
    for (const pid of pids) this.ownAtStart.set(pid, postgresCpuUs(new Set([pid])) ?? 0);
    this.pg = postgresCpuUs();
    this.cpu = process.cpuUsage();
  }

  async stop(jobs: number): Promise<Costs> {
    const cpu = process.cpuUsage(this.cpu);
    const pgAfter = postgresCpuUs();
    const pids = await ownServerPids(this.client);
    const costs: Costs = {
      nodeCpuUsPerJob: (cpu.user + cpu.system) / jobs,
      walBytesPerJob: (await walBytesSince(this.client, this.wal)) / jobs,
    };
    if (this.pg !== undefined && pgAfter !== undefined) {
      costs.postgresServerCpuUsPerJob = (pgAfter - this.pg) / jobs;
      let own = 0;
      // A backend that closed before stop() is missed (the libraries' pools keep theirs open).
      for (const pid of pids) own += (postgresCpuUs(new Set([pid])) ?? 0) - (this.ownAtStart.get(pid) ?? 0);
      costs.postgresCpuUsPerJob = own / jobs;
    }
    return costs;
  }
}

/** Runs one scenario on one library (opened on a fresh schema here) and closes it. */
export async function measure(params: ChildParams): Promise<Measurement> {
  const library = await openLibrary(params.library, params.url, params.tuning ?? {});
  try {
    // The bench's own connection: WAL position, and whether every job is finished.
    const client = new pg.Client({ connectionString: params.url });
    await client.connect();
    try {
      return await measureScenario(library, params, {
        costs: () => new PostgresCosts(client),
        unfinished: async () => Boolean((await client.query(library.unfinishedSql)).rowCount),
      });
    } finally {
      await client.end();
    }
  } finally {
    await library.close();
  }
}
