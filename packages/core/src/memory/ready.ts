/**
 * The ready jobs of one queue: one FIFO per priority, the priorities kept sorted, so taking
 * the next job is O(1) and adding one of a new priority O(log p + p) for p distinct
 * priorities held. A bucket goes as soon as it empties: priorities computed per job (a
 * timestamp, a user id) would otherwise pile up one empty bucket each, every one of them
 * kept in memory and walked on every take.
 *
 * @module
 */
import { Fifo } from "./heap.js";

/** Ready items of one queue: lower priority first, oldest first within a priority. */
export class ReadyQueue<T extends { readonly priority: number }> {
  /** Never an empty bucket (see the module notes). */
  private readonly buckets = new Map<number, Fifo<T>>();
  /** The keys of `buckets`, ascending. */
  private readonly priorities: number[] = [];
  /** Items held. */
  size = 0;

  /** Distinct priorities held (one bucket each). */
  get priorityCount(): number {
    return this.buckets.size;
  }

  /** Adds an item behind the others of its priority. */
  push(item: T): void {
    let bucket = this.buckets.get(item.priority);
    if (!bucket) {
      this.buckets.set(item.priority, (bucket = new Fifo()));
      this.priorities.splice(this.insertionPoint(item.priority), 0, item.priority);
    }
    bucket.push(item);
    this.size++;
  }

  /** Puts an item back at its old place among those of its priority (by `seq`, oldest first). */
  restore(item: T & { readonly seq: number }): void {
    const bucket = this.buckets.get(item.priority);
    if (!bucket) return this.push(item);
    bucket.insertBefore(item, (held) => (held as unknown as { seq: number }).seq > item.seq);
    this.size++;
  }

  /** The next item without taking it. */
  peek(): T | undefined {
    const first = this.priorities[0];
    return first === undefined ? undefined : this.buckets.get(first)!.peek();
  }

  /** Takes the next item. */
  shift(): T | undefined {
    const first = this.priorities[0];
    if (first === undefined) return undefined;
    const bucket = this.buckets.get(first)!;
    const item = bucket.shift()!;
    if (bucket.length === 0) {
      this.buckets.delete(first);
      this.priorities.shift();
    }
    this.size--;
    return item;
  }

  /** Takes out the items in `gone`, wherever they stand; O(items held). */
  remove(gone: ReadonlySet<T>): void {
    let size = 0;
    for (const [priority, bucket] of this.buckets) {
      bucket.retain((item) => !gone.has(item));
      if (bucket.length === 0) this.buckets.delete(priority);
      size += bucket.length;
    }
    if (this.buckets.size < this.priorities.length) {
      const kept = this.priorities.filter((priority) => this.buckets.has(priority));
      this.priorities.splice(0, this.priorities.length, ...kept);
    }
    this.size = size;
  }

  /** Every item, in the order they would be taken. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (const priority of this.priorities) yield* this.buckets.get(priority)!;
  }

  /** Where `priority` goes in the sorted `priorities` (binary search). */
  private insertionPoint(priority: number): number {
    let [low, high] = [0, this.priorities.length];
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.priorities[middle]! < priority) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/**
 * Takes the next ready item over every queue of `ready` but those in `skip`: the lowest
 * priority, then the oldest (`seq`), as the store's reserve over `"*"` does. For reserves
 * that leave paused queues out (`ReserveOptions.except`).
 */
export function nextExcept<T extends { readonly priority: number; readonly seq: number }>(
  ready: ReadonlyMap<string, ReadyQueue<T>>,
  skip: ReadonlySet<string>,
): T | undefined {
  let best: ReadyQueue<T> | undefined;
  let bestHead: T | undefined;
  for (const [name, queue] of ready) {
    if (queue.size === 0 || skip.has(name)) continue;
    const head = queue.peek()!;
    if (!bestHead || head.priority < bestHead.priority || (head.priority === bestHead.priority && head.seq < bestHead.seq)) {
      best = queue;
      bestHead = head;
    }
  }
  return best?.shift();
}
