/**
 * The ready jobs of one queue: one FIFO per priority, the priorities kept sorted, so taking
 * the next job is O(number of distinct priorities), usually O(1).
 *
 * @module
 */
import { Fifo } from "./heap.js";

/** Ready items of one queue: lower priority first, oldest first within a priority. */
export class ReadyQueue<T extends { readonly priority: number }> {
  private readonly buckets = new Map<number, Fifo<T>>();
  private priorities: number[] = [];
  /** Items held. */
  size = 0;

  /** Adds an item behind the others of its priority. */
  push(item: T): void {
    let bucket = this.buckets.get(item.priority);
    if (!bucket) {
      this.buckets.set(item.priority, (bucket = new Fifo()));
      this.priorities.push(item.priority);
      this.priorities.sort((a, b) => a - b);
    }
    bucket.push(item);
    this.size++;
  }

  /** The next item without taking it. */
  peek(): T | undefined {
    for (const priority of this.priorities) {
      const item = this.buckets.get(priority)!.peek();
      if (item) return item;
    }
    return undefined;
  }

  /** Takes the next item. */
  shift(): T | undefined {
    for (const priority of this.priorities) {
      const item = this.buckets.get(priority)!.shift();
      if (item) {
        this.size--;
        return item;
      }
    }
    return undefined;
  }

  /** Takes out the items in `gone`, wherever they stand; O(items held). */
  remove(gone: ReadonlySet<T>): void {
    for (const bucket of this.buckets.values()) bucket.retain((item) => !gone.has(item));
    let size = 0;
    for (const bucket of this.buckets.values()) size += bucket.length;
    this.size = size;
  }

  /** Every item, in the order they would be taken. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (const priority of this.priorities) yield* this.buckets.get(priority)!;
  }
}
