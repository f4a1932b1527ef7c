/**
 * The seam between `errand work` and an application framework: a worker context is the
 * runtime a worker runs in plus how to close whatever built it. Core builds one from the
 * config file; a framework package (`@errand/nestjs`) builds one from the app's own
 * container, so the jobs the worker runs are made by that container. Core only calls a
 * {@link WorkerContextFactory}; it never imports the framework.
 *
 * @module
 */
import type { Runtime } from "../runtime.js";

/** What a worker runs in: a runtime and the one way to close it. */
export interface WorkerContext {
  /** The runtime the worker uses: its config, job registry, adapters and `resolve` hook. */
  readonly runtime: Runtime;
  /**
   * Closes what built the context, the runtime included; called once, after the worker has
   * stopped (or when starting it failed).
   * @param signal - the signal that ended the worker (`SIGTERM`, `SIGINT`), if one did; a
   *   framework hands it to its shutdown hooks.
   */
  close(signal?: NodeJS.Signals): Promise<void>;
}

/** Options a {@link WorkerContextFactory} receives beside the app's entry. */
export interface WorkerContextOptions {
  /** How the user named the entry (`dist/app.module.js#AppModule`), for messages. */
  name: string;
}

/**
 * Builds a {@link WorkerContext} from the value a framework calls the app's entry (a Nest
 * module for `@errand/nestjs`'s `nestWorkerContext`). Rejects with an `ErrandError` naming
 * what is wrong when the entry is not one, or when the app it builds has no Errand runtime;
 * whatever it opened before failing, it closes.
 */
export type WorkerContextFactory = (entry: unknown, options: WorkerContextOptions) => Promise<WorkerContext>;
