/**
 * The leases of core's in-memory store: which jobs are handed out, with which token, until
 * when. A job is *held* from {@link LeaseTable.grant} until {@link LeaseTable.end} (settled)
 * or until its deadline passes and {@link LeaseTable.expired} yields it; a reservation whose
 * token is no longer the job's is stale.
 *
 * Deadlines sit in a min-heap with lazy deletion: an extension pushes a new node and the old
 * one is skipped when it comes up; settled leases stay until their deadline passes, and are
 * dropped in one pass once they outnumber live ones (with the default 5-minute lease, every
 * job run in the last 5 minutes would stay, body included).
 *
 * @module
 */
import type { Reservation } from "../adapter/contract.js";
import { MinHeap } from "./heap.js";

/** What the table needs of a stored job. */
export interface Leasable {
  readonly providerJobId: string;
  /** 0 when not leased; the deadline otherwise. */
  leaseUntil: number;
  /** Changes at every lease; a reservation carrying an older one is stale. */
  leaseToken: number;
}

/** Leased jobs by provider id, and their deadlines. */
export class LeaseTable<E extends Leasable> {
  private readonly deadlines = new MinHeap<{ entry: E; until: number }>((a, b) => a.until < b.until);
  private readonly held = new Map<string, E>();

  /** Leases `entry` until `until` with `token`. */
  grant(entry: E, until: number, token: number): void {
    entry.leaseUntil = until;
    entry.leaseToken = token;
    this.held.set(entry.providerJobId, entry);
    this.deadlines.push({ entry, until });
  }

  /** The entry a reservation still holds, or undefined when its lease was lost. */
  holder(reservation: Reservation): E | undefined {
    const entry = this.held.get(reservation.providerJobId);
    return entry && entry.leaseToken === reservation.handle ? entry : undefined;
  }

  /** Ends a lease (the job was settled). */
  end(entry: E): void {
    this.held.delete(entry.providerJobId);
    entry.leaseUntil = 0;
    if (this.deadlines.size > 2 * this.held.size + 1024) {
      this.deadlines.retain(({ entry: leased, until }) => this.isLive(leased, until));
    }
  }

  /** Pushes a held lease's deadline out. */
  extend(entry: E, until: number): void {
    entry.leaseUntil = until;
    this.deadlines.push({ entry, until });
  }

  /** Leases whose deadline passed by `now`, ended as they are yielded. */
  *expired(now: number): Generator<E> {
    for (let top = this.deadlines.peek(); top && top.until <= now; top = this.deadlines.peek()) {
      this.deadlines.pop();
      if (!this.isLive(top.entry, top.until)) continue; // extended or settled
      this.held.delete(top.entry.providerJobId);
      top.entry.leaseUntil = 0;
      yield top.entry;
    }
  }

  private isLive(entry: E, until: number): boolean {
    return entry.leaseUntil === until && this.held.get(entry.providerJobId) === entry;
  }

  /** The earliest deadline held (possibly of a lease since extended or settled), or undefined. */
  nextDeadline(): number | undefined {
    return this.deadlines.peek()?.until;
  }

  /** Jobs leased now. */
  values(): IterableIterator<E> {
    return this.held.values();
  }

  /** Forgets every lease. */
  clear(): void {
    this.deadlines.clear();
    this.held.clear();
  }
}
