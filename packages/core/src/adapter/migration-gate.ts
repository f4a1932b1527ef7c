/**
 * A backend's migration run once before the first command of the adapter (or store) that
 * holds the gate — for adapter authors.
 *
 * State: `ready` false (auto) until the first `whenReady()` has applied the migration; one
 * call in flight is shared by every caller meanwhile; a failure (the server down) leaves the
 * gate not ready, so the next call tries again. With `auto` false (`migrate: false`) it is
 * ready from the start: migrating is the app's business (`errand migrate`, which calls
 * `run()`). Callers may test `ready` to send a command without waiting a turn.
 *
 * @module
 */

/** Applies a migration once, on first use (see the module's states). */
export class MigrationGate {
  /** The migration is known to be applied (or is the app's business). */
  ready: boolean;
  private running: Promise<void> | undefined;

  /**
   * @param apply applies what is pending; answers the names of what it applied.
   * @param auto apply on first use (the adapters' `migrate` option, default true).
   */
  constructor(
    private readonly apply: () => Promise<string[]>,
    auto: boolean,
  ) {
    this.ready = !auto;
  }

  /** Resolves once the migration is in place, applying it the first time. */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    this.running ??= this.apply().then(
      () => {
        this.ready = true;
      },
      (error: unknown) => {
        this.running = undefined;
        throw error;
      },
    );
    return this.running;
  }

  /** Applies now (`errand migrate`); answers the names applied. */
  async run(): Promise<string[]> {
    const applied = await this.apply();
    this.ready = true;
    return applied;
  }
}
