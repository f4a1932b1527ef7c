/**
 * Running the configured outbox's relay in this process (`errand relay`, and `errand work`
 * beside its worker): the relay's `send` enqueues on the named adapter through core's
 * {@link AdapterClient}, so checks, `adapter:call` events and error mapping are the same as
 * for any enqueue.
 *
 * @module
 */
import { ConfigError } from "../errors.js";
import type { Runtime } from "../runtime.js";

/** Options of {@link runOutboxRelay}. */
export interface RunOutboxRelayOptions {
  /** Stops the relay; the promise resolves once it has. */
  signal: AbortSignal;
  /** A failed round (the target down, the database gone), reported while the relay goes on. */
  onError(error: unknown): void;
}

/**
 * Relays `runtime.config.outbox` until `signal` aborts. Batches go to the adapter in
 * chunks of its `maxBatchSize`, one after the other: the order of the outbox is kept
 * (core's parallel chunks would let two chunks of a queue race).
 * @throws ConfigError when the config has no outbox.
 */
export async function runOutboxRelay(runtime: Runtime, { signal, onError }: RunOutboxRelayOptions): Promise<void> {
  const outbox = runtime.config.outbox;
  if (!outbox) throw new ConfigError("the config has no outbox: set defineConfig({ outbox: new PostgresOutbox({ url }) }) to relay one");
  await outbox.relay({
    signal,
    onError,
    async send(adapter, payloads) {
      const client = await runtime.adapterFor(adapter);
      const size = Math.max(1, client.capabilities.maxBatchSize);
      for (let start = 0; start < payloads.length; start += size) await client.enqueue(payloads.slice(start, start + size));
    },
  });
}
