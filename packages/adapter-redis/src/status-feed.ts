/**
 * Status feeds over pub/sub, for the adapter (`<prefix>:status`, published by its scripts as
 * `{ queue, state, ids }`) and the status store (`{<prefix>}:status`, `{ ids }`): a
 * subscription on the shared pub/sub connection (`subscriber.ts`) that hands each message's
 * ids to `onChange`, and calls `onReconnect` once the channel is subscribed again after a
 * lost connection. Closing the feed ends the subscription (and the connection, when nothing
 * else listens on it).
 *
 * @module
 */
import type { StatusFeed, StatusFeedOptions } from "@errand/core/adapter";

import type { Subscriber } from "./subscriber.js";

/** The ids a status message names; none for a message that is not one (a stray PUBLISH on the channel). */
export function idsOf(text: string): string[] {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return [];
  }
  const ids = (message as { ids?: unknown } | null)?.ids;
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string") : [];
}

/** Opens a feed on `channel`; resolves once the server confirmed the subscription. */
export async function openStatusFeed(subscriber: Subscriber, channel: string, options: StatusFeedOptions): Promise<StatusFeed> {
  if (typeof options?.onChange !== "function" || typeof options.onReconnect !== "function") {
    throw new TypeError("openStatusFeed: give { onChange(ids), onReconnect() }");
  }
  const end = await subscriber.subscribe(channel, {
    message: (text) => {
      const ids = idsOf(text);
      if (ids.length > 0) options.onChange(ids);
    },
    reconnected: () => options.onReconnect(),
  });
  return { close: end };
}
