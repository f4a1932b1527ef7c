/**
 * A deliberately slow feed server, part of the web example: the "third-party site" whose
 * feed `FetchFeedJob` fetches. It serves the same deterministic RSS 2.0 and Atom feeds every
 * time, in chunks spread over a few seconds, with a Content-Length so the job can report
 * how much of the feed has arrived.
 *
 * | path | what |
 * | --- | --- |
 * | `/feed.rss` | RSS 2.0, slowly (`?ms=N` overrides the total time, 0–60000) |
 * | `/feed.atom` | Atom, slowly |
 * | `/not-a-feed.html` | an HTML page, at once: what a user pastes by mistake |
 * | `/posts/N` | the page an item links to |
 *
 * Run it alone with `node examples/dist/web/feed-server.js` (port `FEED_PORT`, default
 * 3001), or start it from code with {@link startFeedServer}.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";

/** Options of {@link startFeedServer}. */
export interface FeedServerOptions {
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Time to send a whole feed, spread evenly between its chunks. Default 4000 ms. */
  totalMs?: number;
  /** How many pieces a feed is sent in. Default 8. */
  chunks?: number;
  /** Items per feed. Default 24 (about 30 KB of XML). */
  items?: number;
  /**
   * Awaited before chunk `index` (0-based) of a feed is written, after the pacing delay.
   * Tests hold a feed mid-way with it; a rejection ends the response early.
   */
  beforeChunk?: (index: number, path: string) => Promise<void> | void;
}

/** A running feed server. */
export interface FeedServer {
  /** Base URL, such as `http://127.0.0.1:3001`. */
  url: string;
  /** The slow RSS feed's URL. */
  rssUrl: string;
  /** The slow Atom feed's URL. */
  atomUrl: string;
  /** Stops listening and ends responses in progress. */
  close(): Promise<void>;
}

const DEFAULTS = { port: 0, host: "127.0.0.1", totalMs: 4000, chunks: 8, items: 24 };
const KNOWN_OPTIONS = new Set(["port", "host", "totalMs", "chunks", "items", "beforeChunk"]);
/** The longest `?ms=` a request may ask for: a minute is slow enough for any demo. */
const MAX_MS = 60_000;

// Deterministic filler so each item weighs about 1 KB and progress has something to count.
const LOREM =
  "Background jobs keep slow work out of the request: the page answers at once and the result " +
  "arrives when it is ready, pushed to the browser as it happens. ";

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}

interface Item {
  title: string;
  link: string;
  published: Date;
  summary: string;
}

function itemsFor(base: string, count: number): Item[] {
  return Array.from({ length: count }, (_, index) => {
    const n = count - index; // newest first, as feeds list them
    return {
      title: `Errand dispatch #${n}`,
      link: `${base}/posts/${n}`,
      published: new Date(Date.UTC(2025, 0, n, 9, 30)),
      summary: `Dispatch ${n}. ${LOREM.repeat(6)}`,
    };
  });
}

/** The RSS 2.0 document the server sends (exported for tests that compare results). */
export function rssFeed(base: string, count = DEFAULTS.items): string {
  const entries = itemsFor(base, count).map(
    (item) =>
      `<item><title>${escapeXml(item.title)}</title><link>${escapeXml(item.link)}</link>` +
      `<guid>${escapeXml(item.link)}</guid><pubDate>${item.published.toUTCString()}</pubDate>` +
      `<description>${escapeXml(item.summary)}</description></item>`,
  );
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>The Slow Errand Times (RSS)</title>` +
    `<link>${escapeXml(base)}/</link><description>A feed served slowly, on purpose.</description>\n${entries.join("\n")}\n</channel></rss>\n`
  );
}

/** The Atom document the server sends. */
export function atomFeed(base: string, count = DEFAULTS.items): string {
  const items = itemsFor(base, count);
  const entries = items.map(
    (item) =>
      `<entry><title>${escapeXml(item.title)}</title><link href="${escapeXml(item.link)}"/><id>${escapeXml(item.link)}</id>` +
      `<published>${item.published.toISOString()}</published><updated>${item.published.toISOString()}</updated><summary>${escapeXml(item.summary)}</summary></entry>`,
  );
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>The Slow Errand Times (Atom)</title>` +
    `<id>${escapeXml(base)}/</id><link href="${escapeXml(base)}/"/><updated>${items[0]?.published.toISOString() ?? new Date(0).toISOString()}</updated>\n` +
    `${entries.join("\n")}\n</feed>\n`
  );
}

function checkOptions(options: FeedServerOptions): Required<Omit<FeedServerOptions, "beforeChunk">> & Pick<FeedServerOptions, "beforeChunk"> {
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new TypeError(`startFeedServer: unknown option "${key}" (known: ${[...KNOWN_OPTIONS].join(", ")})`);
  }
  const merged = { ...DEFAULTS, ...options };
  const integer = (name: "port" | "totalMs" | "chunks" | "items", min: number, max: number) => {
    const value = merged[name];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new TypeError(`startFeedServer: option "${name}" must be an integer from ${min} to ${max}, got ${String(value)}`);
    }
  };
  integer("port", 0, 65_535);
  integer("totalMs", 0, MAX_MS);
  integer("chunks", 1, 1000);
  integer("items", 0, 10_000);
  return merged;
}

/** Starts the slow feed server; resolves once it listens. */
export async function startFeedServer(options: FeedServerOptions = {}): Promise<FeedServer> {
  const settings = checkOptions(options);
  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      // A response cut short (client gone, beforeChunk rejected) just ends.
      if (!res.headersSent) text(res, 500, "text/plain", `feed server error: ${String(error)}`);
      else res.destroy();
    });
  });
  server.listen(settings.port, settings.host);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const url = `http://${settings.host}:${port}`;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requested = new URL(req.url ?? "/", url);
    if (req.method !== "GET") return text(res, 405, "text/plain", `${req.method ?? "?"} not allowed: this server only serves GET`);
    const path = requested.pathname;
    if (path === "/feed.rss") return slowly(res, path, "application/rss+xml; charset=utf-8", rssFeed(url, settings.items), totalMsOf(requested, res));
    if (path === "/feed.atom") return slowly(res, path, "application/atom+xml; charset=utf-8", atomFeed(url, settings.items), totalMsOf(requested, res));
    if (path === "/not-a-feed.html") return text(res, 200, "text/html; charset=utf-8", "<!doctype html><title>Hello</title><p>This page is not a feed.</p>");
    const post = /^\/posts\/(\d+)$/.exec(path);
    if (post) return text(res, 200, "text/html; charset=utf-8", `<!doctype html><title>Dispatch ${post[1]}</title><p>${escapeXml(LOREM)}</p>`);
    if (path === "/") return text(res, 200, "text/plain; charset=utf-8", `Slow feeds: ${url}/feed.rss and ${url}/feed.atom\n`);
    text(res, 404, "text/plain", `no such page: ${path}`);
  }

  /** `?ms=` (validated), else the server's pace; undefined after answering 400 for a bad one. */
  function totalMsOf(requested: URL, res: ServerResponse): number | undefined {
    const raw = requested.searchParams.get("ms");
    if (raw === null) return settings.totalMs;
    const ms = Number(raw);
    if (/^\d+$/.test(raw) && ms <= MAX_MS) return ms;
    text(res, 400, "text/plain", `?ms= must be a whole number of milliseconds from 0 to ${MAX_MS}, got ${JSON.stringify(raw)}`);
    return undefined;
  }

  async function slowly(res: ServerResponse, path: string, type: string, body: string, totalMs: number | undefined): Promise<void> {
    if (totalMs === undefined) return;
    const bytes = Buffer.from(body, "utf8");
    res.writeHead(200, { "content-type": type, "content-length": bytes.length, "cache-control": "no-store" });
    const size = Math.ceil(bytes.length / settings.chunks);
    const pause = totalMs / settings.chunks;
    for (let index = 0; index < settings.chunks; index++) {
      if (res.destroyed) return; // the fetcher went away
      if (pause > 0) await delay(pause);
      await settings.beforeChunk?.(index, path);
      if (res.destroyed) return;
      res.write(bytes.subarray(index * size, (index + 1) * size));
    }
    res.end();
  }

  return {
    url,
    rssUrl: `${url}/feed.rss`,
    atomUrl: `${url}/feed.atom`,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

function text(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** The port from `FEED_PORT` (default 3001); a clear error for anything else. */
export function feedPortFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.FEED_PORT ?? "3001";
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65_535) throw new TypeError(`FEED_PORT must be a port number (0-65535), got ${JSON.stringify(raw)}`);
  return port;
}

// Run alone: `node examples/dist/web/feed-server.js`.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const feeds = await startFeedServer({ port: feedPortFromEnv() });
  console.log(`slow feeds: ${feeds.rssUrl} and ${feeds.atomUrl}`);
  const stop = () => void feeds.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
