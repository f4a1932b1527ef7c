/**
 * What marks a job class, from any copy of core. Kept apart from the runtime so the
 * config's checks (a recurring task's `job`) can use it without importing the runtime.
 *
 * @module
 */
const JOB_MARK = Symbol.for("errand.job");

/** True for a subclass of `Job` (from any copy of core), abstract base classes without `perform` included. */
export function isJobSubclass(value: unknown): value is Function {
  return typeof value === "function" && (value as unknown as Record<symbol, unknown>)[JOB_MARK] === true && Object.getPrototypeOf(value) !== Function.prototype;
}

/** True for a concrete job class (a subclass of `Job`, from any copy of core, with `perform`). */
export function isJobClass(value: unknown): value is Function {
  return isJobSubclass(value) && typeof value.prototype?.perform === "function";
}

/** Marks the `Job` base class so {@link isJobClass} recognises its subclasses (`Job` calls it on itself). */
export function markJobBase(jobBase: Function): void {
  Object.defineProperty(jobBase, JOB_MARK, { value: true });
}
