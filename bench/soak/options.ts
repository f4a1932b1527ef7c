/**
 * The soak's command line: `npm run bench:soak -- --backend postgres|redis|sqs [options]`.
 * Every option is checked: an unknown one, a missing value or a value out of range is an
 * error naming it. `--short` sets smaller defaults for checking the bench works; options
 * given beside it win, in any order.
 */
import { BACKENDS, type Backend } from "./storage.js";

/** A soak run's settings. */
export interface SoakOptions {
  backend: Backend;
  /** Jobs of the steady phase. */
  jobs: number;
  /** When set: the steady phase lasts this long instead, `rate × steadyMs` jobs (`--short`: 60 s unless `--jobs`). */
  steadyMs: number | undefined;
  /** Steady enqueue rate, jobs/s; undefined: `rateShare` × the calibrated drain rate. */
  rate: number | undefined;
  rateShare: number;
  /** Jobs enqueued at once after the steady phase. */
  burst: number;
  periodMs: number;
  /** Jobs of each calibration drain. */
  calibration: number;
  /** Scheduled jobs (a week ahead) enqueued before the run; 0: none. */
  scheduled: number;
  concurrency: number;
  tickMs: number;
  retentionMs: number;
  maxFinished: number;
  retentionCheckMs: number;
  /** PostgreSQL on a server without autovacuum: the bench VACUUMs the run's tables this often (0: never). */
  vacuumMs: number;
  /** Sampling after the last job started. */
  tailMs: number;
  short: boolean;
}

export const USAGE = `usage: npm run bench:soak -- --backend ${BACKENDS.join("|")} [--short] [--jobs N | --steady-s S] [--rate JOBS_PER_S] [--rate-share 0.7]
  [--burst N] [--period-s S] [--calibration N] [--scheduled N] [--concurrency N] [--tick-ms MS]
  [--retention-s S] [--max-finished N] [--retention-check-s S] [--vacuum-s S] [--tail-s S]`;

const FULL: Omit<SoakOptions, "backend"> = {
  jobs: 1_000_000,
  steadyMs: undefined,
  rate: undefined,
  rateShare: 0.7,
  burst: 200_000,
  periodMs: 10_000,
  calibration: 30_000,
  scheduled: 0,
  concurrency: 20,
  tickMs: 50,
  retentionMs: 60_000,
  // Errand's default for both adapters.
  maxFinished: 100_000,
  // 1 s: a step deletes at most 10,000 rows, so two workers checking every 5 s removed at most
  // 4,000 finished jobs a second, less than a run at 5,400/s finished (live rows 112k → 633k).
  retentionCheckMs: 1_000,
  vacuumMs: 30_000,
  tailMs: 20_000,
  short: false,
};

/** `--short`: two minutes or so, a steady minute: long enough for retention (10 s) to act and be judged. */
const SHORT: Partial<SoakOptions> = { steadyMs: 60_000, burst: 5_000, periodMs: 2_000, calibration: 20_000, retentionMs: 10_000, vacuumMs: 5_000, tailMs: 4_000 };

/** Parses the soak's arguments (`argv` without node and the script). */
export function parseSoakArgs(argv: string[]): SoakOptions {
  const given: Partial<SoakOptions> = {};
  let backend: Backend | undefined;
  let short = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return next;
    };
    const number = (min: number, integer = true) => {
      const text = value();
      const n = Number(text);
      if (text.trim() === "" || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
        throw new Error(`${arg} must be ${integer ? "an integer" : "a number"} >= ${min}, got ${JSON.stringify(text)}`);
      }
      return n;
    };
    switch (arg) {
      case "--backend": {
        const name = value();
        if (!BACKENDS.includes(name as Backend)) throw new Error(`--backend must be one of ${BACKENDS.join(", ")}, got ${JSON.stringify(name)}`);
        backend = name as Backend;
        break;
      }
      case "--short": short = true; break;
      case "--jobs": given.jobs = number(1); given.steadyMs = undefined; break;
      case "--steady-s": given.steadyMs = number(1) * 1000; break;
      case "--rate": given.rate = number(1, false); break;
      case "--rate-share": {
        given.rateShare = number(0.01, false);
        if (given.rateShare > 1) throw new Error(`--rate-share must be at most 1, got ${given.rateShare}`);
        break;
      }
      case "--burst": given.burst = number(0); break;
      case "--period-s": given.periodMs = number(1) * 1000; break;
      case "--calibration": given.calibration = number(100); break;
      case "--scheduled": given.scheduled = number(1); break;
      case "--concurrency": given.concurrency = number(1); break;
      case "--tick-ms": given.tickMs = number(1); break;
      case "--retention-s": given.retentionMs = number(0, false) * 1000; break;
      case "--max-finished": given.maxFinished = number(0); break;
      case "--retention-check-s": given.retentionCheckMs = number(0, false) * 1000; break;
      case "--vacuum-s": given.vacuumMs = number(0, false) * 1000; break;
      case "--tail-s": given.tailMs = number(0, false) * 1000; break;
      case "--help":
      case "-h":
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${JSON.stringify(arg)}\n${USAGE}`);
    }
  }
  if (!backend) throw new Error(`--backend is required\n${USAGE}`);
  return { ...FULL, ...(short ? SHORT : {}), ...given, backend, short };
}
