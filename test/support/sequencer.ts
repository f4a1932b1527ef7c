/**
 * The order test files start in: longest first, so the two workers end together.
 *
 * vitest's own order on a fresh clone (no cache, as on CI) is "larger files first", and the
 * longest files are the smallest: a conformance wiring is ten lines. On 2026-12-04 the five
 * conformance files of SQS and PostgreSQL (75–100 s each) started last, from 628 to 737 s
 * into an 829 s run, and for the last 100 s one worker waited on the other. Longest first
 * (the classic LPT rule) leaves the short files to fill the gaps at the end.
 *
 * The weights are seconds measured in that run (2 cores, load 3–6), rounded; a file no
 * pattern names is ordered after them by vitest's own rule. A stale weight costs only
 * some overlap, never a result.
 */
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Measured seconds per file pattern, the first match wins. */
const WEIGHTS: readonly [RegExp, number][] = [
  [/sqs-postgres-status\.conformance\.test\.ts$/, 100],
  [/(sqs|sqs-redis-status|sqs-fifo-shared-status|postgres)\.conformance\.test\.ts$/, 78],
  [/recurring-processes\.test\.ts$/, 53],
  [/\.conformance\.test\.ts$/, 28],
  [/\.browser\.test\.ts$/, 22],
  // The fault files, with the batches area (four cases, a 10,000-job batch among them),
  // measured 2026-12-04 at load 3–5, three files at a time (sqs.faults: 32 s).
  [/(redis|postgres)\.faults\.test\.ts$/, 85],
  [/sqs-redis-store\.faults\.test\.ts$/, 70],
  [/\.faults\.test\.ts$/, 30],
  [/(outbox-faults|cli|postgres-flow\.pg|recurring-sqs-crash|readme|nestjs|nestjs-cli)\.test\.ts$/, 20],
];

const weight = (file: TestSpecification): number => WEIGHTS.find(([pattern]) => pattern.test(file.moduleId))?.[1] ?? 0;

/** Longest known files first, then vitest's order. */
export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const position = new Map(sorted.map((file, index) => [file, index]));
    return [...sorted].sort((a, b) => weight(b) - weight(a) || position.get(a)! - position.get(b)!);
  }
}
