/**
 * `npm run demo:web`: the seeds' web app. A page where you submit a feed URL; the server
 * answers at once with a job id and a signed status URL; `FetchFeedJob` fetches the feed
 * from a deliberately slow feed server (started here, on its own port) and the page shows
 * its progress, then its items, pushed over Server-Sent Events. `/report` does the same for
 * a slow report.
 *
 * On the async adapter (the default) jobs run in this process: nothing to install. With
 * `ERRAND_URL=redis://…` or `postgres://…` this process only enqueues and pushes statuses,
 * and `errand work` processes run the jobs (see the Procfile and README.md beside this file).
 *
 * Environment: `PORT` (default 3000), `FEED_PORT` (3001), `HOST` (127.0.0.1), `ERRAND_URL`,
 * `ERRAND_SECRET` (signs status URLs; default a random one per process, so set it
 * when several web processes serve the same users), `REPORT_STEP_MS` (700).
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { configure } from "@errand/core";

import config from "./errand.config.js";
import { feedPortFromEnv, startFeedServer } from "./feed-server.js";
import { FetchFeedJob } from "./fetch-feed-job.js";
import { createWebApp } from "./server.js";

function portFromEnv(name: string, fallback: string): number {
  const raw = process.env[name] ?? fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > 65_535) throw new TypeError(`${name} must be a port number (0-65535), got ${JSON.stringify(raw)}`);
  return Number(raw);
}

const host = process.env.HOST ?? "127.0.0.1";
const runtime = configure(config);
// Connect to the backend (and start the async adapter's in-process pool) before serving.
await runtime.start();
const adapter = await runtime.adapterFor();
// One status read opens the backend's connections (and, on PostgreSQL, applies pending
// migrations) now, so the first POST does not pay for them: ~119 ms on PostgreSQL otherwise.
await FetchFeedJob.status("00000000-0000-0000-0000-000000000000");

const feeds = await startFeedServer({ host, port: feedPortFromEnv() });
// The first fetch() in a process loads Node's HTTP client (~100 ms, on the event loop the
// async adapter's jobs share with the web server): load it now, not in the first request.
await (await fetch(feeds.url)).text();
const secret = process.env.ERRAND_SECRET || randomBytes(32).toString("base64url");
const server = createServer(createWebApp({ feedUrl: feeds.rssUrl, secret }));
server.listen(portFromEnv("PORT", "3000"), host);
await once(server, "listening");
const { port } = server.address() as AddressInfo;

console.log(`Errand web demo on the ${adapter.name} adapter: http://${host}:${port}/ (and /report)`);
console.log(`slow feeds: ${feeds.rssUrl} and ${feeds.atomUrl}`);
if (!adapter.capabilities.embeddedWorker) console.log("jobs run in `errand work` processes: see examples/web/Procfile");
console.log("Ctrl-C stops it");

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Open status streams would hold server.close() forever: end them with the listener.
  server.closeAllConnections();
  server.close();
  await Promise.all([once(server, "close"), feeds.close()]);
  await runtime.close();
  console.log("closed");
}
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
