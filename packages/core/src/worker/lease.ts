/**
 * Lease renewal for one worker.
 *
 * Every job a worker holds — running in a slot or waiting in its buffer — is leased to it
 * for `leaseMs`; a backend hands a job whose lease ran out to another worker. The renewer
 * keeps those leases alive.
 *
 * States:
 *
 * - `idle` → `start()` → `renewing`: a timer fires every third of the lease (at least every
 *   500 ms). Each tick collects the held jobs (the buffer, and the running jobs not already
 *   abandoned) and extends all of them in one bulk `extendLease` call; with nothing held it
 *   makes no call, and while a renewal is still in flight (a slow backend) the tick is
 *   skipped, so answers never arrive out of order. A third leaves room for two renewals to
 *   fail (a backend hiccup) before a lease runs out. The timer is unref'd: renewal never
 *   keeps a process alive by itself.
 * - A renewal that reports lost leases (the lease ran out and the job may already run
 *   elsewhere) acts only on the deliveries it sent: a job settled meanwhile and reserved
 *   again keeps the same provider id on most backends, and its new delivery's lease is
 *   sound. A lost buffered delivery is dropped from the buffer without running; a running one is
 *   marked abandoned, so its outcome is never written over the new holder's, and its
 *   `signal` is aborted with {@link LeaseLostError}, which is also reported as a
 *   `worker:error`. A renewal that fails is reported the same way and not retried before
 *   the next tick.
 * - `renewing` → `stop()` → `stopped`: the timer is cleared; the answer of a renewal still
 *   in flight is ignored (nothing it could report matters after the worker stopped, and it
 *   must not emit a `worker:error` after `worker:stop`). The worker stops the renewer last in its shutdown, after the
 *   final settlements were written, so jobs running out their shutdown grace keep their
 *   leases. A stopped renewer does not start again.
 *
 * @module
 */
import type { AdapterClient } from "../backends/client.js";
import type { Reservation } from "../adapter/contract.js";
import { ErrandError } from "../errors.js";
import type { RunningJobs } from "./slots.js";

/** Aborts a running job's signal when its lease was lost (another worker may run it). */
export class LeaseLostError extends ErrandError {
  constructor(providerJobId: string) {
    super("ERR_LEASE_LOST", `the lease of job ${providerJobId} was lost`);
  }
}

/** @internal What a {@link LeaseRenewer} works on: the worker's own collections, shared, not copied. */
export interface LeaseRenewerOptions {
  client: AdapterClient;
  leaseMs: number;
  /** The worker's buffer of reserved jobs not yet running. */
  buffer: Reservation[];
  /** The worker's running jobs. */
  running: RunningJobs;
  /** Reports a lost lease or a failed renewal (`worker:error`). */
  onError(error: unknown): void;
}

/**
 * Shortest renewal interval, in ms. The shortest lease allowed is 1 s, whose third (333 ms)
 * would renew a busy worker's leases three times a second for no gain.
 */
const MIN_INTERVAL_MS = 500;

/** @internal Renews the leases of every job one worker holds. */
export class LeaseRenewer {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inFlight = false;

  constructor(private readonly options: LeaseRenewerOptions) {}

  /** Starts the renewal timer. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.renew(), Math.max(MIN_INTERVAL_MS, Math.floor(this.options.leaseMs / 3)));
    this.timer.unref();
  }

  /** Stops renewing; leases then run out on their own. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One renewal: extends every held lease, then drops or aborts the deliveries whose lease was lost. */
  async renew(): Promise<void> {
    if (this.stopped || this.inFlight) return;
    const { client, leaseMs, buffer, running, onError } = this.options;
    const held = [...buffer, ...running.values().filter((job) => !job.abandoned).map((job) => job.reservation)];
    if (held.length === 0) return;
    const sent = new Set(held);
    this.inFlight = true;
    try {
      const lost = new Set(await client.extendLease(held, leaseMs));
      if (lost.size === 0 || this.stopped) return;
      const isLost = (reservation: Reservation) => sent.has(reservation) && lost.has(reservation.providerJobId);
      for (let index = buffer.length - 1; index >= 0; index--) {
        if (isLost(buffer[index]!)) buffer.splice(index, 1);
      }
      for (const job of running.values()) {
        if (job.abandoned || !isLost(job.reservation)) continue;
        job.abandoned = true;
        const error = new LeaseLostError(job.reservation.providerJobId);
        (job.controller ??= new AbortController()).abort(error);
        onError(error);
      }
    } catch (error) {
      if (!this.stopped) onError(error);
    } finally {
      this.inFlight = false;
    }
  }
}
