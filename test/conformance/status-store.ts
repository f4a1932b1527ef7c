/**
 * Conformance: status stores (`StatusStore` from `@errand/core/adapter`) — where a backend
 * that keeps no job state (SQS) keeps statuses, and which tells a delivery's current lease
 * from a stale one. `LocalStatusStore` is the reference; a store's test file is only wiring:
 *
 *   statusStoreSuite("redis", async () => new RedisStatusStore({ url, prefix: fresh() }));
 *
 * Each case builds a fresh store (its own key prefix or schema) and closes it. The cases
 * call the store directly, as the SQS adapter does: no queue, no worker, no waiting, except
 * in the expiry case, which polls until a 1 ms retention has passed.
 *
 * The cases are split by area: `status-store-transitions.ts`, `status-store-leases.ts`,
 * `status-store-bulk.ts` (batches, progress, reads, deletes), `status-store-order.ts` (one
 * job's writes landing out of order), `status-store-retention.ts` (finishedTtlMs and
 * deadTtlMs); their fixtures are in
 * `status-store-harness.ts`. This file wires them and holds the expiry case. The shared
 * stores' parts have suites of their own: the operator's side (`status-store-marks.ts`) and
 * batches (`status-store-batches.ts`).
 */
import { describe, expect, it } from "vitest";

import type { StatusStore } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { bulkAndReadCases } from "./status-store-bulk.js";
import { lease, outcome, payload, staleOf, statusOf, storeRunner } from "./status-store-harness.js";
import { leaseCases } from "./status-store-leases.js";
import { retentionCases, type CreateWithTtl } from "./status-store-retention.js";
import { writeOrderCases } from "./status-store-order.js";
import { transitionsCases } from "./status-store-transitions.js";

/** Optional wiring for cases that need a store built differently. */
export interface StatusStoreSuiteOptions {
  /** A fresh store with these retentions; without it the expiry and retention cases are skipped. */
  createWithTtl?: CreateWithTtl;
}


/** Registers the status-store conformance cases for one store. */
export function statusStoreSuite(name: string, create: () => Promise<StatusStore>, options: StatusStoreSuiteOptions = {}): void {
  const withStore = storeRunner(create);

  describe(`${name}: status store`, () => {
    transitionsCases(withStore);
    leaseCases(withStore);
    bulkAndReadCases(withStore);
    writeOrderCases(withStore);
    retentionCases(options.createWithTtl);

    it.skipIf(!options.createWithTtl)("a finished status expires after finishedTtlMs; live ones stay", async () => {
      await withStore(
        async (store) => {
          const [finished, live] = [payload(), payload()];
          const [lf, ll] = [lease(), lease()];
          await store.enqueued([finished, live]);
          await store.started([{ id: finished.id, lease: lf }, { id: live.id, lease: ll }]);
          await store.settled([{ id: finished.id, lease: lf, settlement: outcome.succeeded(finished.id) }]);
          await waitFor(async () => (await store.get([finished.id]))[0] === null, { message: "finished status expired" });
          expect(await statusOf(store, live.id)).toMatchObject({ state: "running" });
          // Expired is unknown: its old lease is no longer stale.
          expect(await staleOf(store, [finished.id, lf])).toEqual([]);
        },
        () => options.createWithTtl!({ finishedTtlMs: 1 }),
      );
    });
  });
}

