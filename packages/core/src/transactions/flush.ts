/**
 * After the app's transaction commits: its deferred jobs are enqueued, one bulk call per
 * adapter in the order they were made; a job whose class has enqueue callbacks goes alone,
 * its callbacks around the store (they ran at nothing before: a deferred job's callbacks
 * run here, where it is stored). A failure does not stop the rest: the failed jobs are
 * answered, for `withTransaction` to name in its error.
 *
 * @module
 */
import type { EnqueueResult } from "../adapter/contract.js";
import type { AdapterClient } from "../backends/client.js";
import { runWithCallbacks, type CallbackSet } from "../job/callbacks.js";
import { currentRuntime } from "../runtime.js";
import type { ScopedJob } from "./scope.js";

/** True when a class has any enqueue callback: such a job is stored alone, inside them. */
export function hasEnqueueCallbacks(callbacks: CallbackSet | undefined): callbacks is CallbackSet {
  return callbacks !== undefined && (callbacks.beforeEnqueue.length > 0 || callbacks.aroundEnqueue.length > 0 || callbacks.afterEnqueue.length > 0);
}

/** Sets the stored ids on the job instance (a unique job's duplicate gets the holder's). */
export function takeIds(entry: ScopedJob, stored: EnqueueResult | undefined): void {
  if (stored === undefined) return;
  entry.job.jobId = stored.jobId;
  entry.job.providerJobId = stored.providerJobId;
}

/** Enqueues the deferred jobs of a committed transaction; answers those that failed, in order. */
export async function flushDeferred(jobs: readonly ScopedJob[]): Promise<{ entry: ScopedJob; error: unknown }[]> {
  const runtime = currentRuntime();
  const byAdapter = new Map<string | undefined, ScopedJob[]>();
  for (const entry of jobs) {
    let list = byAdapter.get(entry.adapter);
    if (!list) byAdapter.set(entry.adapter, (list = []));
    list.push(entry);
  }
  const failed = new Map<ScopedJob, unknown>();
  for (const [adapter, entries] of byAdapter) {
    let client: AdapterClient;
    try {
      client = await runtime.adapterFor(adapter);
    } catch (error) {
      for (const entry of entries) failed.set(entry, error);
      continue;
    }
    let run: ScopedJob[] = [];
    const sendRun = async (): Promise<void> => {
      if (run.length === 0) return;
      const batch = run;
      run = [];
      try {
        const stored = await client.enqueue(batch.map((entry) => entry.payload));
        batch.forEach((entry, index) => takeIds(entry, stored[index]));
      } catch (error) {
        for (const entry of batch) failed.set(entry, error);
      }
    };
    for (const entry of entries) {
      const callbacks = entry.callbacks;
      if (!hasEnqueueCallbacks(callbacks)) {
        run.push(entry);
        continue;
      }
      await sendRun();
      try {
        await runWithCallbacks(entry.job, callbacks.beforeEnqueue, callbacks.aroundEnqueue, callbacks.afterEnqueue, async () => {
          const [stored] = await client.enqueue([entry.payload]);
          takeIds(entry, stored);
        });
      } catch (error) {
        failed.set(entry, error);
      }
    }
    await sendRun();
  }
  return jobs.filter((entry) => failed.has(entry)).map((entry) => ({ entry, error: failed.get(entry) }));
}
