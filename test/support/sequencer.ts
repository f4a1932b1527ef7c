/**
 * The order test files start in: longest first, so the three workers end together, and
 * the unit files of packages/<name>/test last, one after another.
 *
 * vitest's own order on a fresh clone (no cache, as on CI) is "larger files first", and the
 * longest files are the smallest: a conformance wiring is ten lines. Longest first (the
 * classic LPT rule) leaves the short files to fill the gaps at the end. With the weights
 * of 2026-12-03 the files no weight named started in vitest's order among the short ones:
 * on 2026-12-04 nestjs-cli (87 s) started at 491 s, outbox-faults (67 s) at 561 s, cli-jobs
 * (48 s) at 770 s and outbox-postgres (31 s) at 876 s of a 982 s run, and for its last
 * 300 s the three workers ran tests 40–60 % of the time (JSON report, load 8–19).
 *
 * The unit files share worker processes (`isolate: false` in vitest.config.ts): a worker
 * keeps its process only while the next file waiting is a unit file too, so they go
 * together, at the end, where the short files belong anyway.
 *
 * The weights are the seconds each file took (first test's start to last test's end), the
 * lower of two runs on 2026-12-04 (2 cores, 3 workers, other work on the machine: load
 * 8–19, median 12, and 4–12, median 8), for every file of 6 s or more. Files that start
 * processes (the CLI, Nest, the outbox relay, the README examples) took 2–6× as long in the
 * busier run (nestjs-cli 87 s and 13 s), so the lower is the nearer to a quiet machine. The
 * four SQS conformance files were measured again once their cases closed in the background
 * (conformance/harness.ts), three at a time at load 1–3 (sqs-redis-status alone). A file
 * the table does not name is weighed by its kind, then ordered by vitest's rule. A stale
 * weight costs only some overlap, never a result.
 */
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Measured seconds per test file of test/, by file name (the lower of the two runs). */
const MEASURED: ReadonlyMap<string, number> = new Map([
  ["sqs-postgres-status.conformance.test.ts", 67],
  ["sqs-redis-status.conformance.test.ts", 54],
  ["sqs-fifo-shared-status.conformance.test.ts", 54],
  ["sqs.conformance.test.ts", 44],
  ["postgres.conformance.test.ts", 66],
  ["postgres.faults.test.ts", 60],
  ["recurring-processes.test.ts", 56],
  ["sqs-redis-store.faults.test.ts", 54],
  ["redis.faults.test.ts", 50],
  ["redis.conformance.test.ts", 45],
  ["sqs.faults.test.ts", 44],
  ["dashboard.postgres.browser.test.ts", 40],
  ["cli.test.ts", 36],
  ["test-adapter.conformance.test.ts", 34],
  ["dashboard.async.browser.test.ts", 33],
  ["async.conformance.test.ts", 31],
  ["dashboard.redis.browser.test.ts", 27],
  ["web-app.sqs.browser.test.ts", 23],
  ["dashboard.sqs.browser.test.ts", 23],
  ["redis-cluster.redis.test.ts", 21],
  ["recurring-sqs-crash.test.ts", 20],
  ["cli-jobs.test.ts", 20],
  ["outbox-postgres.test.ts", 18],
  ["web-app.redis.browser.test.ts", 18],
  ["web-app.postgres.browser.test.ts", 17],
  ["outbox-faults.test.ts", 16],
  ["recurring.test.ts", 14],
  ["nestjs.test.ts", 13],
  ["nestjs-cli.test.ts", 13],
  ["cli-recurring.test.ts", 12],
  ["postgres-upgrade.pg.test.ts", 12],
  ["web-app.async.browser.test.ts", 11],
  ["readme.test.ts", 11],
  ["postgres-flow.pg.test.ts", 10],
  ["cli-work.test.ts", 10],
  ["status-stores.test.ts", 10],
  ["client.browser.test.ts", 9],
  ["postgres-deadlock.test.ts", 8],
  ["postgres-control.pg.test.ts", 7],
  ["sqs-control.sqs.test.ts", 7],
  ["postgres.test.ts", 7],
  ["postgres-retention.pg.test.ts", 7],
  ["outbox-sqs.test.ts", 7],
  ["status-feed-backends.test.ts", 6],
  ["postgres-batches.pg.test.ts", 6],
  // Issue 18's files, measured alone at load 7–9 (2026-12-04): npm installs into apps under
  // os.tmpdir() and the apps' own tests, tsc and workers.
  ["init-ts-app.test.ts", 50],
  ["init-jest-app.test.ts", 37],
  ["init-cjs-app.test.ts", 35],
  ["commonjs-app.test.ts", 14],
  ["init-cli.test.ts", 10],
  ["doctor-sqs.test.ts", 8],
  ["doctor.test.ts", 8],
]);

/** A new file's weight by its kind, from the measured files of that kind (the first match wins). */
const BY_KIND: readonly [RegExp, number][] = [
  [/\.conformance\.test\.ts$/, 45],
  [/\.faults\.test\.ts$/, 45],
  [/\.browser\.test\.ts$/, 25],
];

/** Below every weight: the unit files, after all of test/. */
const UNIT = -1;

const weight = (file: TestSpecification): number => {
  if (file.project.name === "unit") return UNIT;
  const name = file.moduleId.slice(file.moduleId.lastIndexOf("/") + 1);
  return MEASURED.get(name) ?? BY_KIND.find(([pattern]) => pattern.test(name))?.[1] ?? 0;
};

/** Longest known files first, then vitest's order, then the unit files. */
export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const position = new Map(sorted.map((file, index) => [file, index]));
    return [...sorted].sort((a, b) => weight(b) - weight(a) || position.get(a)! - position.get(b)!);
  }
}
