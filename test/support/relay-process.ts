// `errand relay` (or `errand work`, which runs the relay beside its worker) as a real child
// process on the outbox fixture config (test/fixtures/outbox), for the outbox's fault tests.
import { join } from "node:path";

import { ErrandProcess, ROOT, type Exit } from "./errand-process.js";

/** The fixture config every relay process loads. */
export const OUTBOX_CONFIG = join(ROOT, "test/fixtures/outbox/errand.config.mjs");

/** One `errand` child process on the outbox fixture; `RelayProcess.killAll()` ends those still running. */
export class RelayProcess extends ErrandProcess {
  /** Starts `errand <args> --config <fixture>` with `env` added to the environment. */
  constructor(args: readonly string[], env: Record<string, string>) {
    super([...args, "--config", OUTBOX_CONFIG], env);
  }

  /** Resolves once the process said it started (its SIGTERM handler is then installed). */
  async started(): Promise<void> {
    await this.until(/ started/, 30_000);
    if (this.child.exitCode !== null) throw new Error(`the process exited at start\n${this.tail()}`);
  }

  /** SIGTERM once started; resolves with how it exited. */
  async stop(): Promise<Exit> {
    await this.started();
    this.child.kill("SIGTERM");
    return this.exited;
  }
}
