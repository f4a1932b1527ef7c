/**
 * How the dashboard benches that read 1,000,000 stored jobs run (redis.ts, postgres.ts,
 * store-jobs.ts): their common command line, one timed listing (a warm-up, then `runs` calls,
 * median), and walking a listing page by page by its cursors.
 */
import type { JobPage, JobState, ListJobsOptions } from "@errand/core/adapter";

import { median } from "../lib/stats.js";

/** The options every dashboard bench takes. */
export interface DashboardOptions {
  /** Share of the 1,000,000 jobs to store, in (0, 1]; default 1. */
  scale: number;
  /** Timed calls per figure after the warm-up; default 5. */
  runs: number;
  /** Leave what was stored (and print where) instead of deleting it. */
  keep: boolean;
  /** Measure what a `--keep` run left (a Redis prefix or a schema) instead of storing anew. */
  reuse?: string;
}

/**
 * Reads `--scale F`, `--runs N`, `--keep` and `--reuse NAME` from the command line; `more`
 * takes any other flag it knows (reading its value by `value()`) and returns true. An unknown
 * flag throws with `usage`, a scale outside (0, 1] or a runs that is not a positive integer
 * throws too.
 */
export function dashboardOptions(usage: string, more?: (flag: string, value: () => string) => boolean): DashboardOptions {
  const argv = process.argv.slice(2);
  const out: DashboardOptions = { scale: 1, runs: 5, keep: false };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i]!;
    const value = () => argv[++i]!;
    if (flag === "--scale") out.scale = Number(value());
    else if (flag === "--runs") out.runs = Number(value());
    else if (flag === "--keep") out.keep = true;
    else if (flag === "--reuse") out.reuse = value();
    else if (!more?.(flag, value)) throw new Error(`unknown option ${flag}; usage: ${usage}`);
  }
  if (!(out.scale > 0 && out.scale <= 1) || !Number.isInteger(out.runs) || out.runs < 1) throw new Error("--scale is in (0, 1], --runs a positive integer");
  return out;
}

/** What one call of a timed listing gave: how many jobs, and whether there is a next page. */
export interface Listed {
  jobs: number;
  next: boolean;
}

/** {@link Listed} of a page. */
export function listed(page: JobPage): Listed {
  return { jobs: page.jobs.length, next: page.next !== undefined };
}

/** One timed figure, as the results JSON keeps it. */
export interface Timing {
  name: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** What the last call gave. */
  jobs: number;
  next: boolean;
}

/**
 * Times `call`: one warm-up, then `runs` calls in turn. Prints
 * `  name: 1.2 ms (min 1.0, max 1.5), 50 jobs, next` and returns the figure.
 */
export async function time(name: string, runs: number, call: () => Promise<Listed>): Promise<Timing> {
  await call();
  const ms: number[] = [];
  let last: Listed = { jobs: 0, next: false };
  for (let run = 0; run < runs; run += 1) {
    const start = performance.now();
    last = await call();
    ms.push(performance.now() - start);
  }
  const timing = { name, medianMs: median(ms), minMs: Math.min(...ms), maxMs: Math.max(...ms), ...last };
  process.stdout.write(`  ${name}: ${timing.medianMs.toFixed(1)} ms (min ${timing.minMs.toFixed(1)}, max ${timing.maxMs.toFixed(1)}), ${timing.jobs} jobs${timing.next ? ", next" : ""}\n`);
  return timing;
}

/** A listing of one state (the kind that pages by cursor). */
export type StateListing = Extract<ListJobsOptions, { state: JobState }>;

/** Lists one page: an adapter's `listJobs` or a status store's `control.list`. */
export type ListPage = (options: StateListing) => Promise<JobPage>;

/**
 * The cursor of page `page` (1 = the first) of a listing, following `next`; undefined for the
 * first page, or when the listing ends before `page`.
 */
export async function cursorAt(list: ListPage, options: StateListing, page: number): Promise<string | undefined> {
  let cursor: string | undefined;
  for (let p = 1; p < page; p += 1) {
    cursor = (await list(cursor === undefined ? options : { ...options, cursor })).next;
    if (cursor === undefined) break;
  }
  return cursor;
}

/** Every page of a listing: how many calls and ms it took to walk it all, and the jobs found. */
export async function walkAll(list: ListPage, options: StateListing): Promise<{ calls: number; ms: number; jobs: number; slowestMs: number }> {
  let cursor: string | undefined;
  let calls = 0;
  let jobs = 0;
  let slowestMs = 0;
  const start = performance.now();
  do {
    const began = performance.now();
    const page = await list(cursor === undefined ? options : { ...options, cursor });
    slowestMs = Math.max(slowestMs, performance.now() - began);
    calls += 1;
    jobs += page.jobs.length;
    cursor = page.next;
  } while (cursor !== undefined);
  return { calls, ms: performance.now() - start, jobs, slowestMs };
}
