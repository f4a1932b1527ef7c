/**
 * Weighted queue selection, as in Sidekiq. `"critical,2 default,1"` means a reserve
 * tries `critical` first about twice as often as `default`; every queue is still tried on
 * every reserve, so a quiet queue never stalls a busy one. Queues given without weights
 * are tried strictly in the order written. `"*"` means every queue the backend knows.
 *
 * @module
 */
import { ConfigError } from "../errors.js";

/** One queue and its weight. */
export interface QueueWeight {
  name: string;
  weight: number;
}

/** Parsed queue setting. */
export type QueueSelection = "*" | { queues: QueueWeight[]; weighted: boolean };

/**
 * Parses `"critical,2 default,1"`, `["critical,2", "default"]` or `"*"`.
 * @throws ConfigError naming the entry that is wrong.
 */
export function parseQueues(input: string | readonly string[] | undefined, fallback: string | readonly string[] = "*"): QueueSelection {
  const raw = input === undefined ? fallback : input;
  const entries = (typeof raw === "string" ? [raw] : [...raw]).flatMap((entry) => entry.split(/\s+/)).filter(Boolean);
  if (entries.length === 0) throw new ConfigError("queues: no queue given");
  if (entries.length === 1 && entries[0] === "*") return "*";
  const queues: QueueWeight[] = [];
  let weighted = false;
  for (const entry of entries) {
    const match = /^([^,\s*]+)(?:,(\d+))?$/.exec(entry);
    if (!match) throw new ConfigError(`queues: ${JSON.stringify(entry)} is not "name" or "name,weight" (weight a positive integer), nor "*"`);
    const weight = match[2] === undefined ? 1 : Number(match[2]);
    if (weight < 1) throw new ConfigError(`queues: weight of ${match[1]} must be at least 1`);
    if (match[2] !== undefined) weighted = true;
    if (queues.some((queue) => queue.name === match[1])) throw new ConfigError(`queues: ${match[1]} is listed twice`);
    queues.push({ name: match[1]!, weight });
  }
  return { queues, weighted };
}

/** Applies a name mapping (the queue prefix) to every queue. */
export function mapQueueNames(selection: QueueSelection, map: (name: string) => string): QueueSelection {
  if (selection === "*") return selection;
  return { ...selection, queues: selection.queues.map((queue) => ({ ...queue, name: map(queue.name) })) };
}

/**
 * A worker's queues on `client`: the setting parsed (`"*"` by default where the backend can
 * work every queue, else `default`), names mapped (the prefix applied).
 * @throws ConfigError for a bad setting, or `"*"` on a backend without `wildcardQueues`.
 */
export function selectQueues(
  setting: string | readonly string[] | undefined,
  client: { name: string; capabilities: { wildcardQueues: boolean } },
  map: (name: string) => string,
): QueueSelection {
  const wildcard = client.capabilities.wildcardQueues;
  const selection = mapQueueNames(parseQueues(setting, wildcard ? "*" : "default"), map);
  if (selection === "*" && !wildcard) throw new ConfigError(`the ${client.name} adapter cannot work every queue ("*"); name the queues with --queues`);
  return selection;
}

/** Describes a selection for logs. */
export function describeQueues(selection: QueueSelection): string {
  if (selection === "*") return "*";
  return selection.queues.map((queue) => (selection.weighted ? `${queue.name},${queue.weight}` : queue.name)).join(" ");
}

/**
 * The order to try queues in for one reserve: strict when unweighted; otherwise a
 * weighted random permutation (each next queue drawn with probability proportional to
 * its weight among those left).
 */
export function queueOrder(selection: QueueSelection, random: () => number = Math.random): readonly string[] | "*" {
  if (selection === "*") return "*";
  const { queues, weighted } = selection;
  if (!weighted || queues.length === 1) return queues.map((queue) => queue.name);
  const left = [...queues];
  const order: string[] = [];
  let total = left.reduce((sum, queue) => sum + queue.weight, 0);
  while (left.length > 0) {
    let pick = random() * total;
    let index = 0;
    while (index < left.length - 1 && pick >= left[index]!.weight) pick -= left[index++]!.weight;
    const [chosen] = left.splice(index, 1);
    order.push(chosen!.name);
    total -= chosen!.weight;
  }
  return order;
}
