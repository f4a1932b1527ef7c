/**
 * Grouping a batch for adapters that send one call per queue (or per connection, per
 * slot): items by key, in first-seen key order, keeping their order within each group.
 *
 * @module
 */

/** Groups items by `key`; groups and the items in them keep their order. */
export function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    let group = groups.get(k);
    if (!group) groups.set(k, (group = []));
    group.push(item);
  }
  return groups;
}
