// The outbox's kill -9 fault, shared by its targets (outbox-faults.test.ts: Redis;
// outbox-postgres.test.ts: PostgreSQL): `errand relay` started again and again on a filled
// outbox, each one SIGKILLed as soon as it moved jobs, then a last one that drains it. At
// every kill nothing may be lost (each job in the target, or still in the outbox, or both:
// sent, not yet deleted) and the kill must have come mid-stream.
import { waitFor } from "@errand/core/testing";
import { expect } from "vitest";

import { RelayProcess } from "./relay-process.js";

/** Options of {@link killRelaysMidStream}. */
export interface RelayKillsOptions {
  /** Relays to start and SIGKILL, one after the other. */
  kills: number;
  /** The relay processes' environment (test/fixtures/outbox). */
  env: Record<string, string>;
  /** Jobs written to the outbox. */
  total: number;
  /** Jobs in the target so far. */
  stored(): Promise<number>;
  /** Rows still in the outbox. */
  pending(): Promise<number>;
}

/**
 * Runs the kills, then a last relay until the outbox is empty and a clean SIGTERM. Returns
 * the rows that had been sent and not yet deleted at the kills (sent again by the next relay).
 */
export async function killRelaysMidStream({ kills, env, total, stored, pending }: RelayKillsOptions): Promise<number> {
  let sentNotDeleted = 0;
  for (let kill = 0; kill < kills; kill++) {
    const relay = new RelayProcess(["relay"], env);
    await relay.started();
    const before = await stored();
    await waitFor(async () => (await stored()) > before, { timeoutMs: 15_000, intervalMs: 1, message: `relay ${kill} moving jobs\n${relay.tail()}` });
    await relay.kill();
    const [inTarget, left] = [await stored(), await pending()];
    expect(inTarget + left, `jobs lost at kill ${kill}\n${relay.tail()}`).toBeGreaterThanOrEqual(total);
    expect(inTarget, "the relay had finished before the kill: not mid-stream").toBeLessThan(total);
    sentNotDeleted += inTarget + left - total;
  }
  const last = new RelayProcess(["relay"], env);
  await waitFor(async () => (await pending()) === 0, { timeoutMs: 30_000, message: `the last relay draining the outbox\n${last.tail()}` });
  expect(await last.stop(), last.tail()).toEqual({ code: 0, signal: null });
  return sentNotDeleted;
}
