/**
 * The memory store's containers: a binary min-heap (scheduled jobs by run time, leases by
 * deadline, both with lazy deletion: stale nodes are skipped when they reach the top) and
 * a FIFO with a moving head (one per priority of a ready queue).
 *
 * @module
 */

/** A binary min-heap ordered by `less`. */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.less(items[index]!, items[parent]!)) break;
      [items[index], items[parent]] = [items[parent]!, items[index]!];
      index = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /** Drops every item. */
  clear(): void {
    this.items.length = 0;
  }

  /** Every item, in no particular order. */
  values(): readonly T[] {
    return this.items;
  }

  /** Keeps only the items `keep` accepts and restores the heap order; O(n). */
  retain(keep: (item: T) => boolean): void {
    const items = this.items;
    let length = 0;
    for (const item of items) if (keep(item)) items[length++] = item;
    items.length = length;
    for (let index = (length >> 1) - 1; index >= 0; index--) this.siftDown(index);
  }

  private siftDown(start: number): void {
    const items = this.items;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < items.length && this.less(items[left]!, items[smallest]!)) smallest = left;
      if (right < items.length && this.less(items[right]!, items[smallest]!)) smallest = right;
      if (smallest === index) return;
      [items[index], items[smallest]] = [items[smallest]!, items[index]!];
      index = smallest;
    }
  }
}

/** A FIFO queue on an array with a moving head; O(1) amortised shift. */
export class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /**
   * Puts an item back in front of the first item it goes `before`, scanning from the head:
   * O(1) for an item older than everything held, which is what it is used for.
   */
  insertBefore(item: T, before: (held: T) => boolean): void {
    let index = this.head;
    while (index < this.items.length && !before(this.items[index]!)) index++;
    if (index === this.head && this.head > 0) this.items[--this.head] = item;
    else this.items.splice(index, 0, item);
  }

  /** Keeps only the items `keep` accepts, in order; O(n). */
  retain(keep: (item: T) => boolean): void {
    const kept: T[] = [];
    for (let index = this.head; index < this.items.length; index++) {
      const item = this.items[index]!;
      if (keep(item)) kept.push(item);
    }
    this.items = kept;
    this.head = 0;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let index = this.head; index < this.items.length; index++) yield this.items[index]!;
  }
}
