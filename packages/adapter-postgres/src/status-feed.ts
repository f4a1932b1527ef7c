/**
 * Status feeds over LISTEN/NOTIFY, for the adapter (channel `errand:<schema>:status`) and the
 * status store (`errand:<schema>:statuses`): each statement that changes statuses NOTIFYs
 * the ids it changed as JSON arrays (migration `005_status_notify.sql`), and a feed LISTENs
 * on the shared connection (`listen-connection.ts`), which reconnects by itself and then
 * calls `onReconnect`. Closing the feed UNLISTENs (and ends the connection when nothing else
 * listens on it).
 *
 * @module
 */
import type { StatusFeed, StatusFeedOptions } from "@errand/core/adapter";

import type { ListenConnection } from "./listen-connection.js";

/** The ids a notification names; none for a payload that is not a JSON array (a stray NOTIFY on the channel). */
export function idsOf(payload: string): string[] {
  let ids: unknown;
  try {
    ids = JSON.parse(payload);
  } catch {
    return [];
  }
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string") : [];
}

/** Opens a feed on `channel`; resolves once the server confirmed the LISTEN, rejects when it cannot connect. */
export async function openStatusFeed(connection: ListenConnection, channel: string, options: StatusFeedOptions): Promise<StatusFeed> {
  if (typeof options?.onChange !== "function" || typeof options.onReconnect !== "function") {
    throw new TypeError("openStatusFeed: give { onChange(ids), onReconnect() }");
  }
  const subscription = connection.listen(channel, {
    message: (payload) => {
      const ids = idsOf(payload);
      const named = ids.filter((id) => id !== "");
      if (named.length > 0) options.onChange(named);
      // "": an id too long for a notification changed (notify_ids): read every watched job again.
      if (named.length < ids.length) options.onReconnect();
    },
    reconnected: () => options.onReconnect(),
  }, { presence: true });
  try {
    await subscription.ready;
  } catch (error) {
    await subscription.end();
    throw error;
  }
  return { close: () => subscription.end() };
}
