/**
 * What the four batch benches share (core/batch.ts, postgres/batch-drain.ts, redis/batch.ts,
 * sqs/batch.ts): the two sides of each comparison, the driver that measures them in turns,
 * the figure they print (what the batch adds), and the `--jobs --runs --concurrency` options of the
 * Redis and SQS ones.
 *
 * The sides take turns run by run, in the other order every other run (plain, batch, batch,
 * plain, …), so a slow moment of the shared machine lands on neither side only, and neither
 * side always runs right after the other's child exited.
 */

/** The two drains compared: N plain jobs (`performAllLater`) or N jobs in one `batch()`. */
export type Side = "plain" | "batch";

/** The sides, plain first. */
export const SIDES: readonly Side[] = ["plain", "batch"];

/** Calls `measure` `runs` times per side, the sides in turns (see the module notes); its results, per side, in run order. */
export async function alternate<T>(runs: number, measure: (side: Side, run: number) => Promise<T>): Promise<Record<Side, T[]>> {
  const measured: Record<Side, T[]> = { plain: [], batch: [] };
  for (let run = 0; run < runs; run++) {
    for (const side of run % 2 === 0 ? SIDES : [...SIDES].reverse()) measured[side].push(await measure(side, run));
  }
  return measured;
}

/**
 * `value` over `base`, less 1, as "12.3 %": what the batch adds is the plain rate over the
 * batch rate (time), or the batch's cost per job over the plain one's (CPU, instructions).
 */
export function percentOver(value: number, base: number): string {
  return `${((value / base - 1) * 100).toFixed(1)} %`;
}

/** The options of the Redis and SQS batch benches. */
export interface DrainOptions {
  /** Jobs per drain. */
  jobs: number;
  /** Runs per side and concurrency. */
  runs: number;
  /** The worker concurrencies to compare at, each on its own. */
  concurrency: number[];
}

/** `--jobs N --runs N --concurrency 1,10,50` over `defaults`; an unknown flag or a count that is no positive integer throws, with `usage`. */
export function parseDrainOptions(argv: readonly string[], defaults: DrainOptions, usage: string): DrainOptions {
  const options: DrainOptions = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    const positive = (text: string | undefined) => {
      const n = Number(text);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag}: ${JSON.stringify(text)} is not a positive integer; ${usage}`);
      return n;
    };
    if (flag === "--jobs") options.jobs = positive(value);
    else if (flag === "--runs") options.runs = positive(value);
    else if (flag === "--concurrency") options.concurrency = (value ?? "").split(",").map(positive);
    else throw new Error(`unknown option ${flag}; ${usage}`);
  }
  return options;
}
