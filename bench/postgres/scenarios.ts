/**
 * The measurements, child side: each runs in its own `node --expose-gc` process (see
 * run.ts) on a library opened on a freshly dropped schema, and returns plain numbers.
 */
import { readdirSync, readFileSync } from "node:fs";

import pg from "pg";

import { measureScenario, type CostMeter, type ScenarioMeasurement, type ScenarioParams } from "../lib/scenarios.js";
import { openLibrary, type LibraryName, type Tuning } from "./libraries.js";

export interface ChildParams extends ScenarioParams {
  library: LibraryName;
  url: string;
  tuning?: Tuning;
}

export interface Measurement extends ScenarioMeasurement {
  /** CPU time of all PostgreSQL server processes during the timed part, µs per job (when /proc shows them). */
  postgresCpuUsPerJob?: number;
  /** WAL written during the timed part (whole server), bytes per job. */
  walBytesPerJob?: number;
}

/** CPU time (user + system) of every PostgreSQL process, in µs; undefined when /proc does not show them. */
export function postgresCpuUs(): number | undefined {
  let ticks = 0;
  let found = false;
  try {
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
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

const walLsn = async (client: pg.Client) => (await client.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0]!.lsn;
const walBytesSince = async (client: pg.Client, lsn: string) =>
  Number((await client.query<{ bytes: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1)::text AS bytes", [lsn])).rows[0]!.bytes);

type Costs = Pick<Measurement, "nodeCpuUsPerJob" | "postgresCpuUsPerJob" | "walBytesPerJob">;

/** CPU of this process and of the PostgreSQL server, and WAL written, from `start()` to `stop(jobs)`. */
class PostgresCosts implements CostMeter<Costs> {
  private cpu = process.cpuUsage();
  private pg = postgresCpuUs();
  private wal = "";

  constructor(private readonly client: pg.Client) {}

  async start(): Promise<void> {
    this.wal = await walLsn(this.client);
    this.pg = postgresCpuUs();
    this.cpu = process.cpuUsage();
  }

  async stop(jobs: number): Promise<Costs> {
    const cpu = process.cpuUsage(this.cpu);
    const pgAfter = postgresCpuUs();
    const costs: Costs = {
      nodeCpuUsPerJob: (cpu.user + cpu.system) / jobs,
      walBytesPerJob: (await walBytesSince(this.client, this.wal)) / jobs,
    };
    if (this.pg !== undefined && pgAfter !== undefined) costs.postgresCpuUsPerJob = (pgAfter - this.pg) / jobs;
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
