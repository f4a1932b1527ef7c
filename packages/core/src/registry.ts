/**
 * The job registry: the only classes a worker will ever run. A payload's job name is
 * looked up here; nothing is imported or evaluated by a name read from a queue.
 *
 * @module
 */
import { ConfigError, UnknownJobError } from "./errors.js";

/** Job classes of core itself (the mail delivery job), registered in every runtime. */
const builtinJobs: Function[] = [];

/** Adds a job class every runtime registers (core's own jobs, at module load). */
export function addBuiltinJob(jobClass: Function): void {
  builtinJobs.push(jobClass);
}

/** Registered job classes by name. */
export class JobRegistry {
  /** Names of core's own jobs (see {@link addBuiltinJob}). */
  private readonly builtins = new Set<string>();
  private readonly byName = new Map<string, Function>();
  private readonly names = new Map<Function, string>();

  /** The name a class is stored under: `static jobName`, else the class name. */
  static nameOf(jobClass: Function): string {
    const own = (jobClass as { jobName?: unknown }).jobName;
    const name = typeof own === "string" && own ? own : jobClass.name;
    if (!name) throw new ConfigError("a job class has no name; set static jobName");
    return name;
  }

  /** Registers core's own jobs (see {@link addBuiltinJob}). */
  registerBuiltins(): void {
    for (const jobClass of builtinJobs) this.builtins.add(this.ensure(jobClass));
  }

  /** Registers job classes. A different class under a taken name is an error. */
  register(...jobClasses: Function[]): void {
    for (const jobClass of jobClasses) this.ensure(jobClass);
  }

  /** Registers a class if needed and returns its name. Called on every enqueue, so it is one Map hit when known. */
  ensure(jobClass: Function): string {
    const known = this.names.get(jobClass);
    if (known !== undefined) return known;
    if (typeof jobClass !== "function" || typeof jobClass.prototype?.perform !== "function") {
      throw new ConfigError(`${String((jobClass as { name?: string })?.name ?? jobClass)} is not a job class (no perform method)`);
    }
    const name = JobRegistry.nameOf(jobClass);
    const existing = this.byName.get(name);
    if (existing && existing !== jobClass) {
      throw new ConfigError(`two different job classes are named "${name}"; give one a distinct static jobName`);
    }
    this.byName.set(name, jobClass);
    this.names.set(jobClass, name);
    return name;
  }

  /** The class registered under `name`. */
  get(name: string): Function | undefined {
    return this.byName.get(name);
  }

  /** The names of the app's registered jobs (not core's own), sorted. */
  list(): string[] {
    // The app's jobs: core's own are there for every app and would only crowd error messages.
    return [...this.byName.keys()].filter((name) => !this.builtins.has(name)).sort();
  }

  /** The error for a name nobody registered. */
  unknown(name: string): UnknownJobError {
    return new UnknownJobError(name, this.list());
  }
}
