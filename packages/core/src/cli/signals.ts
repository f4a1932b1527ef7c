/**
 * How the long-running commands (`errand work`, `errand relay`) are stopped: the first
 * SIGTERM/SIGINT asks for a graceful stop; a second one while stopping exits at once.
 *
 * States: `waiting` → first signal → `stopping` (the promise resolves; the command stops
 * its work) → a second signal → exit {@link FORCED_EXIT_CODE}. The handlers are installed
 * once the command's work has started (a signal during config loading kills the process as
 * usual), before the command prints that it started (a signal sent on reading that line is
 * heard), and stay until exit, so a second signal during the stop still exits at once.
 *
 * @module
 */

/** Exit code of a second signal: the shell convention for "interrupted" (128 + SIGINT's 2). */
export const FORCED_EXIT_CODE = 130;

/** The time at the head of a command's log lines. */
export const now = (): string => new Date().toISOString();

/**
 * Resolves with the first SIGTERM/SIGINT. A second one writes `forced(signal)` to stderr
 * (what exiting now leaves undone) and exits {@link FORCED_EXIT_CODE}.
 */
export function firstSignal(forced: (received: NodeJS.Signals) => string): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (received: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`errand: ${received} again: exiting at once; ${forced(received)}\n`);
        process.exit(FORCED_EXIT_CODE);
      }
      stopping = true;
      resolve(received);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
