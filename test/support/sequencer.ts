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
 * 300 s the three workers were busy 40–60 % of the time.
 *
 * The unit files share worker processes (`isolate: false` in vitest.config.ts): a worker
 * keeps its process only while the next file waiting is a unit file too, so they go
 * together, at the end, where the short files belong anyway.
 *
 * The weights are the seconds each file took in that run (2 cores, 3 workers, load 8–19
 * from other work, median 12; the quiet run of 4b923eb took 1,397 s for all files, this one
 * 2,096 s, so about 1.5× quiet), for every file of 6 s or more. A file the table does not
 * name is weighed by its kind, then ordered by vitest's rule. A stale weight costs only
 * some overlap, never a result.
 */
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Measured seconds per test file of test/, by file name. */
const MEASURED: ReadonlyMap<string, number> = new Map([
  ["sqs-postgres-status.conformance.test.ts", 125],
  ["sqs-redis-status.conformance.test.ts", 115],
  ["sqs-fifo-shared-status.conformance.test.ts", 107],
  ["sqs.conformance.test.ts", 87],
  ["nestjs-cli.test.ts", 87],
  ["dashboard.sqs.browser.test.ts", 67],
  ["outbox-faults.test.ts", 67],
  ["postgres.conformance.test.ts", 66],
  ["postgres-flow.pg.test.ts", 65],
  ["postgres.faults.test.ts", 61],
  ["recurring-processes.test.ts", 56],
  ["sqs-redis-store.faults.test.ts", 54],
  ["readme.test.ts", 51],
  ["redis.faults.test.ts", 50],
  ["cli-jobs.test.ts", 48],
  ["redis.conformance.test.ts", 45],
  ["sqs.faults.test.ts", 44],
  ["dashboard.postgres.browser.test.ts", 44],
  ["cli.test.ts", 43],
  ["dashboard.async.browser.test.ts", 40],
  ["web-app.sqs.browser.test.ts", 37],
  ["dashboard.redis.browser.test.ts", 37],
  ["test-adapter.conformance.test.ts", 34],
  ["nestjs.test.ts", 33],
  ["web-app.postgres.browser.test.ts", 31],
  ["async.conformance.test.ts", 31],
  ["outbox-postgres.test.ts", 31],
  ["web-app.async.browser.test.ts", 28],
  ["cli-recurring.test.ts", 28],
  ["web-app.redis.browser.test.ts", 26],
  ["recurring-sqs-crash.test.ts", 24],
  ["redis-cluster.redis.test.ts", 22],
  ["cli-work.test.ts", 21],
  ["status-stores.test.ts", 19],
  ["cli-batch.test.ts", 16],
  ["postgres.pg.test.ts", 16],
  ["recurring.test.ts", 14],
  ["sqs-batches.sqs.test.ts", 13],
  ["outbox.test.ts", 13],
  ["postgres-upgrade.pg.test.ts", 12],
  ["postgres-batches.pg.test.ts", 12],
  ["postgres-batches-workers.pg.test.ts", 11],
  ["postgres-control.pg.test.ts", 11],
  ["postgres-deadlock.test.ts", 10],
  ["outbox-sqs.test.ts", 10],
  ["client.browser.test.ts", 9],
  ["dashboard-batch.async.browser.test.ts", 8],
  ["status-feed-backends.test.ts", 8],
  ["postgres.test.ts", 8],
  ["sqs-control.sqs.test.ts", 7],
  ["postgres-transactions.pg.test.ts", 7],
  ["client-react.browser.test.ts", 7],
  ["postgres-retention.pg.test.ts", 7],
  ["postgres-body.pg.test.ts", 6],
  ["orm-prisma.pg.test.ts", 6],
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
