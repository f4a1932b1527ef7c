// The watch harness page: lets a test start `watchJob` calls in the page and read what
// each one saw (see harness-types.ts).
import { WatchError, watchJob } from "@errand/client";

import type { Harness, HarnessRun } from "./harness-types.js";

const runs: { run: HarnessRun; controller: AbortController }[] = [];
const delays: number[] = [];

const harness: Harness = {
  start(url, options) {
    const run: HarnessRun = { updates: [], settled: false, result: null, error: null };
    const controller = new AbortController();
    runs.push({ run, controller });
    watchJob(url, { ...options, signal: controller.signal, onUpdate: (status) => void run.updates.push(status) }).then(
      (status) => {
        run.result = status;
        run.settled = true;
      },
      (error: Error & { status?: number; code?: string }) => {
        const { name, message, status, code } = error;
        run.error = { name, message, status, code, isWatchError: error instanceof WatchError };
        run.settled = true;
      },
    );
    return runs.length - 1;
  },
  read: (run) => runs[run]!.run,
  abort: (run) => runs[run]!.controller.abort(),
  traceTimers() {
    const set = globalThis.setTimeout;
    globalThis.setTimeout = ((handler: TimerHandler, delay?: number, ...rest: unknown[]) => {
      delays.push(delay ?? 0);
      return set(handler, delay, ...rest);
    }) as typeof setTimeout;
  },
  timerDelays: () => delays,
};

(globalThis as unknown as { errandHarness: Harness }).errandHarness = harness;
document.title = "watch harness ready";
