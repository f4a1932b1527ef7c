/**
 * A small in-memory job store for the adapters that core itself ships (test, inline):
 * plain arrays, linear scans, nothing clever. Tests hold a handful of jobs. The async
 * adapter package has the indexed version for real workloads.
 *
 * @module
 */
import { randomUUID } from "node:crypto";

import type {
  DeadJob,
  DeadSelection,
  EnqueueResult,
  JobPayload,
  QueueInfo,
  Reservation,
  ReserveOptions,
  RetryDeadOptions,
  Settlement,
} from "./contract.js";
import { MemoryStatusStore } from "../memory/status.js";

/** One stored job. */
export interface StoredJob {
  providerJobId: string;
  body: string;
  payload: JobPayload;
  runAtMs: number;
  seq: number;
  leaseUntil: number;
  deliveries: number;
  /** Changes at every reservation; a reservation carrying an older one is stale. */
  leaseToken: number;
}

/** Jobs, leases, the dead set and statuses, all in arrays and maps. */
export class SimpleMemoryStore {
  /** Jobs waiting (due or not), in enqueue order. */
  pending: StoredJob[] = [];
  /** Jobs handed out and not settled, by provider id. */
  readonly leased = new Map<string, StoredJob>();
  /** Dead jobs, oldest first. */
  readonly dead: DeadJob[] = [];
  readonly statuses = new MemoryStatusStore();
  private seq = 0;

  /** Stores payloads. */
  add(payloads: readonly JobPayload[]): EnqueueResult[] {
    const now = Date.now();
    return payloads.map((payload) => {
      const job = this.store(payload, JSON.stringify(payload), now);
      return { jobId: payload.id, providerJobId: job.providerJobId };
    });
  }

  private store(payload: JobPayload, body: string, now: number): StoredJob {
    const job: StoredJob = {
      providerJobId: randomUUID(),
      body,
      payload,
      runAtMs: Date.parse(payload.runAt) || now,
      seq: this.seq++,
      leaseUntil: 0,
      deliveries: 0,
      leaseToken: 0,
    };
    this.pending.push(job);
    this.statuses.enqueued(payload, now);
    return job;
  }

  /**
   * Takes due jobs: queues in the order given, lower priority first, then oldest.
   * `includeScheduled` takes jobs whose time has not come too (tests).
   */
  take(
    options: Pick<ReserveOptions, "queues" | "max" | "leaseMs">,
    filter?: (job: StoredJob) => boolean,
    includeScheduled = false,
  ): Reservation[] {
    const now = Date.now();
    this.expireLeases(now);
    const order = options.queues === "*" ? undefined : options.queues;
    const due = this.pending.filter(
      (job) =>
        (includeScheduled || job.runAtMs <= now) && (!order || order.includes(job.payload.queue)) && (!filter || filter(job)),
    );
    due.sort(
      (a, b) =>
        (order ? order.indexOf(a.payload.queue) - order.indexOf(b.payload.queue) : 0) ||
        (includeScheduled ? a.runAtMs - b.runAtMs : 0) ||
        a.payload.priority - b.payload.priority ||
        a.seq - b.seq,
    );
    const taken = due.slice(0, options.max);
    const takenSet = new Set(taken);
    this.pending = this.pending.filter((job) => !takenSet.has(job));
    return taken.map((job) => {
      job.leaseUntil = now + options.leaseMs;
      job.deliveries += 1;
      job.leaseToken = ++this.seq;
      this.leased.set(job.providerJobId, job);
      this.statuses.started(job.payload.id, now);
      return { providerJobId: job.providerJobId, body: job.body, deliveries: job.deliveries, handle: job.leaseToken };
    });
  }

  /** Jobs whose lease ran out go back to pending. */
  expireLeases(now: number): void {
    for (const [id, job] of this.leased) {
      if (job.leaseUntil <= now) {
        this.leased.delete(id);
        this.pending.push(job);
      }
    }
  }

  /** The leased job a reservation still holds, or undefined when its lease was lost. */
  private held(reservation: Reservation): StoredJob | undefined {
    const job = this.leased.get(reservation.providerJobId);
    return job && job.leaseToken === reservation.handle ? job : undefined;
  }

  /** Applies settlements of leased jobs; settlements of jobs no longer leased are ignored. */
  settle(settlements: readonly Settlement[]): { job: StoredJob; settlement: Settlement }[] {
    const now = Date.now();
    const settled: { job: StoredJob; settlement: Settlement }[] = [];
    for (const settlement of settlements) {
      const job = this.held(settlement.reservation);
      if (!job) continue;
      this.leased.delete(job.providerJobId);
      settled.push({ job, settlement });
      this.statuses.settled(job.payload.id, settlement, now);
      if (settlement.outcome === "released") {
        this.pending.push(job);
      } else if (settlement.outcome === "retry") {
        job.payload = settlement.payload;
        job.body = JSON.stringify(settlement.payload);
        job.runAtMs = settlement.runAt.getTime();
        this.pending.push(job);
      } else if (settlement.outcome === "dead") {
        const body = settlement.payload ? JSON.stringify(settlement.payload) : job.body;
        this.dead.push({
          id: settlement.payload?.id ?? job.payload?.id ?? job.providerJobId,
          providerJobId: job.providerJobId,
          queue: settlement.payload?.queue ?? job.payload?.queue ?? "unknown",
          body,
          error: settlement.error,
          diedAt: new Date(now),
        });
      }
    }
    return settled;
  }

  /** Pushes out leases; returns the ids no longer leased. */
  extend(reservations: readonly Reservation[], leaseMs: number): string[] {
    const now = Date.now();
    const lost: string[] = [];
    for (const reservation of reservations) {
      const job = this.held(reservation);
      if (job) job.leaseUntil = now + leaseMs;
      else lost.push(reservation.providerJobId);
    }
    return lost;
  }

  /** Counts per queue. */
  queues(): QueueInfo[] {
    const now = Date.now();
    const infos = new Map<string, QueueInfo>();
    const info = (name: string) => {
      let entry = infos.get(name);
      if (!entry) infos.set(name, (entry = { name, queued: 0, scheduled: 0, running: 0, retrying: 0, dead: 0 }));
      return entry;
    };
    for (const job of this.pending) {
      const entry = info(job.payload.queue);
      if (job.runAtMs > now) {
        if (job.payload.executions > 0) entry.retrying++;
        else entry.scheduled++;
      } else entry.queued++;
    }
    for (const job of this.leased.values()) info(job.payload.queue).running++;
    for (const job of this.dead) info(job.queue).dead++;
    return [...infos.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Dead jobs newest first. */
  listDead(queue: string | undefined, limit: number, offset: number): DeadJob[] {
    return this.dead
      .filter((job) => queue === undefined || job.queue === queue)
      .reverse()
      .slice(offset, offset + limit);
  }

  private selectDead(select: DeadSelection): DeadJob[] {
    if ("ids" in select) {
      const ids = new Set(select.ids);
      return this.dead.filter((job) => ids.has(job.id) || ids.has(job.providerJobId));
    }
    return this.dead.filter((job) => select.queue === undefined || job.queue === select.queue);
  }

  private removeDead(jobs: DeadJob[]): void {
    const gone = new Set(jobs);
    const kept = this.dead.filter((job) => !gone.has(job));
    this.dead.length = 0;
    this.dead.push(...kept);
  }

  /** Moves dead jobs back as core revived them; those core refuses stay dead. */
  retryDead(select: DeadSelection, revive: RetryDeadOptions["revive"]): number {
    const now = Date.now();
    const revived: DeadJob[] = [];
    for (const dead of this.selectDead(select)) {
      const job = revive(dead.body);
      if (!job) continue;
      this.store(job.payload, job.body, now);
      revived.push(dead);
    }
    this.removeDead(revived);
    return revived.length;
  }

  /** Deletes dead jobs. */
  purgeDead(select: DeadSelection): number {
    const chosen = this.selectDead(select);
    this.removeDead(chosen);
    for (const job of chosen) this.statuses.delete(job.id);
    return chosen.length;
  }
}
