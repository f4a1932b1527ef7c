/**
 * `FetchFeedJob`: the seeds' slow work. It fetches an RSS or Atom feed, reports how much has
 * arrived as it arrives ("received 12 KB of 30 KB"), parses it with
 * `@rowanmanning/feed-parser`, reports "parsed", and returns the feed's title and items.
 *
 * What goes wrong, and what happens then:
 * - not an http(s) URL, a 4xx answer, a body that is not a feed, a feed over 5 MB:
 *   `NotAFeedError`, discarded (state `failed` at once: trying again cannot help);
 * - no connection, a 5xx or 429 answer, a connection cut mid-body: `FeedFetchError`,
 *   retried 3 times, 2 s apart, then dead.
 */
import { parseFeed } from "@rowanmanning/feed-parser";

import { discardOn, Job, queueAs, retryOn, timeout } from "@errand/core";

/** A URL that will never give a feed; the job is discarded. */
export class NotAFeedError extends Error {
  override name = "NotAFeedError";
}

/** The feed's site could not be reached or failed; the job is retried. */
export class FeedFetchError extends Error {
  override name = "FeedFetchError";
}

/** One item of a fetched feed. */
export interface FeedItemSummary {
  title: string | null;
  link: string | null;
  /** ISO-8601, or null when the feed gives no date. */
  published: string | null;
}

/** What `FetchFeedJob` returns. */
export interface FeedSummary {
  title: string | null;
  items: FeedItemSummary[];
}

/** Feeds larger than this are refused: 5 MB is far past any real feed's size. */
export const MAX_FEED_BYTES = 5 * 1024 * 1024;
/** Items kept in the result: the page shows a list, not an archive. */
export const MAX_ITEMS = 50;

/**
 * The URL a user typed, as a `URL`, or a `NotAFeedError` saying what is wrong with it. The
 * web server checks with it before enqueuing, and the job again (a job may be enqueued from
 * anywhere).
 */
export function parseFeedUrl(input: unknown): URL {
  if (typeof input !== "string" || input.trim() === "") throw new NotAFeedError("a feed URL is required");
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw new NotAFeedError(`${JSON.stringify(input)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new NotAFeedError(`${JSON.stringify(input)} is not an http(s) URL`);
  return url;
}

function kb(bytes: number): string {
  return `${Math.round(bytes / 1024)} KB`;
}

/**
 * Fetches the RSS or Atom feed at `url` and returns its title and first {@link MAX_ITEMS}
 * items, reporting progress per KB received and "parsed" at the end.
 */
@queueAs("feeds")
@retryOn(FeedFetchError, { attempts: 3, wait: "2s" })
@discardOn(NotAFeedError)
@timeout("2m")
export class FetchFeedJob extends Job<[url: string], FeedSummary> {
  async perform(input: string): Promise<FeedSummary> {
    const url = parseFeedUrl(input);
    const response = await this.request(url);
    const text = await this.readBody(url, response);
    let feed: ReturnType<typeof parseFeed>;
    try {
      feed = parseFeed(text);
    } catch (error) {
      // The parser says INVALID_FEED for any document it cannot read as RSS or Atom.
      if ((error as { code?: unknown }).code === "INVALID_FEED") throw new NotAFeedError(`${url.href} is not an RSS or Atom feed`);
      throw error;
    }
    this.progress(1, "parsed");
    return {
      title: feed.title,
      items: feed.items.slice(0, MAX_ITEMS).map((item) => ({
        title: item.title,
        link: item.url,
        published: (item.published ?? item.updated)?.toISOString() ?? null,
      })),
    };
  }

  private async request(url: URL): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, {
        signal: this.signal,
        headers: { accept: "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1" },
      });
    } catch (error) {
      if (this.signal.aborted) throw error;
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? String(error);
      throw new FeedFetchError(`could not fetch ${url.href}: ${cause}`, { cause: error });
    }
    if (response.status >= 500 || response.status === 429) {
      await response.body?.cancel();
      throw new FeedFetchError(`${url.href} answered ${response.status} ${response.statusText}`);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new NotAFeedError(`${url.href} answered ${response.status} ${response.statusText}`);
    }
    return response;
  }

  /** Reads the body, reporting progress each time another whole KB has arrived. */
  private async readBody(url: URL, response: Response): Promise<string> {
    const length = Number(response.headers.get("content-length"));
    const total = Number.isSafeInteger(length) && length > 0 ? length : undefined;
    if (total !== undefined && total > MAX_FEED_BYTES) {
      await response.body?.cancel();
      throw new NotAFeedError(`${url.href} is ${kb(total)}, over the ${kb(MAX_FEED_BYTES)} a feed may be`);
    }
    const chunks: Uint8Array[] = [];
    let received = 0;
    let reportedKb = -1;
    if (!response.body) return "";
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        received += value.byteLength;
        if (received > MAX_FEED_BYTES) throw new NotAFeedError(`${url.href} sent more than the ${kb(MAX_FEED_BYTES)} a feed may be`);
        const wholeKb = Math.floor(received / 1024);
        if (wholeKb !== reportedKb) {
          reportedKb = wholeKb;
          // Up to 0.9: parsing is the last tenth.
          const fraction = total === undefined ? 0 : Math.min(received / total, 1) * 0.9;
          this.progress(fraction, total === undefined ? `received ${kb(received)}` : `received ${kb(received)} of ${kb(total)}`);
        }
      }
    } catch (error) {
      await reader.cancel().catch(() => undefined); // nothing more to read; the error below says why
      if (error instanceof NotAFeedError || this.signal.aborted) throw error;
      throw new FeedFetchError(`the connection to ${url.host} broke after ${kb(received)}: ${String(error)}`, { cause: error });
    } finally {
      reader.releaseLock();
    }
    return new TextDecoder().decode(Buffer.concat(chunks));
  }
}
