/**
 * `errand relay`: moves jobs from the config's outbox (`defineConfig({ outbox })`) to their
 * adapters until SIGTERM/SIGINT. `errand work` runs the same relay beside its worker when
 * the config has an outbox (`--no-relay` leaves it out); several relays may run at once,
 * one of them leads (the outbox's own rule, e.g. PostgresOutbox's advisory lock).
 *
 * States: `relaying` → first SIGTERM/SIGINT → `stopping` (the round in flight ends, the
 * relay lets go of its connection, the runtime closes) → exit 0. A second signal while
 * stopping exits 130 at once: rows sent but not yet deleted are sent again by the next
 * relay, and the target stores them once (docs/transactions-outbox.md). A relay that ends
 * by itself while `relaying` (an error it could not go on from: its line is on stderr) ends
 * the command with exit 1, so a supervisor restarts it rather than keep an idle process.
 *
 * @module
 */
import type { Command } from "commander";

import { ErrandError } from "../../errors.js";
import { runOutboxRelay } from "../../transactions/relay.js";
import type { Runtime } from "../../runtime.js";
import { CliUsageError, withRuntime, type CommonOptions } from "../context.js";
import { errorText, say } from "../output.js";
import { firstSignal, now } from "../signals.js";

/** `postgres://user:secret@host` → `postgres://user:***@host`: a URL's password never reaches a log line. */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]*@/gi, "$1***@");
}

/** A relay running in this process. */
export interface RunningRelay {
  /** Stops the relay; resolves once it has let go of its connection. */
  stop(): Promise<void>;
  /** Resolves when the relay has ended, asked to or not (an error that stopped it is on stderr already). */
  readonly ended: Promise<void>;
}

/** Starts the config's outbox relay, errors to stderr (one line each, passwords masked). */
export function startRelay(runtime: Runtime): RunningRelay {
  const controller = new AbortController();
  const ended = runOutboxRelay(runtime, {
    signal: controller.signal,
    onError: (error) => process.stderr.write(`${now()} relay error: ${redactUrls(errorText(error))}\n`),
  }).catch((error: unknown) => {
    process.stderr.write(`${now()} relay stopped by an error: ${redactUrls(errorText(error))}\n`);
  });
  return {
    ended,
    async stop() {
      controller.abort();
      await ended;
    },
  };
}

/** Relays the outbox until SIGTERM/SIGINT. */
export async function relay(options: CommonOptions): Promise<void> {
  await withRuntime({ ...options, embedded: false }, async (runtime) => {
    const outbox = runtime.config.outbox;
    if (!outbox) throw new CliUsageError("the config has no outbox: `errand relay` moves jobs from defineConfig({ outbox }) to their adapters");
    const running = startRelay(runtime);
    // The relay's connection may be between attempts (the database down): keep the process alive.
    const keepAlive = setInterval(() => undefined, 60_000);
    // The handlers before the started line, as `errand work` does (work.ts says why).
    const signalled = firstSignal(() => "jobs sent but not yet marked are sent again by the next relay");
    say(`${now()} relay started: outbox ${outbox.dialect}`);
    try {
      // The relay is all this process does: one that ends by itself (an error stopped it) ends the command, exit 1.
      const signal = await Promise.race([signalled, running.ended.then(() => undefined)]);
      if (signal === undefined) {
        await outbox.close();
        throw new ErrandError("ERR_RELAY_STOPPED", "the outbox relay stopped by itself, before any signal (its error is above); jobs wait in the outbox for the next relay");
      }
      say(`${now()} ${signal}: stopping the relay (${signal} again exits at once)`);
      await running.stop();
      await outbox.close();
      say(`${now()} relay stopped`);
    } finally {
      clearInterval(keepAlive);
    }
  });
}

/** Adds `relay` to the program. */
export function registerRelay(program: Command): void {
  program
    .command("relay")
    .description("move jobs from the config's outbox to their adapters until SIGTERM/SIGINT")
    .option("--config <file>", "config file (default: errand.config.{ts,mts,mjs,js} in the working directory)")
    .addHelpText(
      "after",
      `
Examples:
  errand relay

\`errand work\` runs the relay too when the config has an outbox (--no-relay to leave it
out). Several relays may run: one leads, the others take over if it dies.`,
    )
    .action((options: CommonOptions) => relay(options));
}
