/**
 * The web example (examples/web), as built, run inside a test file against one backend:
 * its slow feed server, its routes behind a `node:http` server, a `Worker` when the backend
 * has no in-process pool (the web process and the worker share the backend, as with
 * `errand work`), and headless Chromium.
 *
 * The test holds the moving parts where it wants them instead of racing them:
 * - `holdFeed(chunk)` stops the feed server before a chunk, so the job sits mid-download;
 * - `holdReport(step)` stops `ReportJob` before a step;
 * - `holdReconnects()` stops event-stream requests that carry `Last-Event-ID` at the
 *   server's door, and `cutConnections()` drops every open connection;
 * - `requests` records every request the app saw (method, path, Last-Event-ID).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { once } from "node:events";

import { configure, Worker, type Runtime } from "@errand/core";
import type { Adapter } from "@errand/core/adapter";

import config from "../../examples/dist/web/errand.config.js";
import { startFeedServer, type FeedServer } from "../../examples/dist/web/feed-server.js";
import { reportPacing } from "../../examples/dist/web/report-job.js";
import { createWebApp } from "../../examples/dist/web/server.js";
import { launchBrowser, type TestBrowser } from "../support/browser.js";

/** What one backend's web-app test file provides. */
export interface WebAppWiring {
  /** Backend name in test titles. */
  name: string;
  /** A fresh adapter, isolated from every other test file's. */
  adapter(): Promise<Adapter>;
  /** Removes what the adapter left behind (keys, schemas), after the runtime closed. */
  cleanup?(): Promise<void>;
}

/** One request as the app saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  lastEventId: string | undefined;
  /** The response's status, once its head is sent. */
  status?: number;
  /** Ms from the request to the response's first body bytes (for a stream: its first event). */
  firstBytesMs?: number;
}

/** Something the harness holds until the test lets it go. */
export interface Hold<T = void> {
  /** Resolves when the held thing reached the hold. */
  reached: Promise<T>;
  /** Lets it go on. */
  release(): void;
}

function hold<T = void>(): Hold<T> & { arrive(value: T): Promise<void> } {
  let arrive!: (value: T) => void;
  let release!: () => void;
  const reached = new Promise<T>((resolve) => (arrive = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    reached,
    release,
    arrive: (value: T) => {
      arrive(value);
      return released;
    },
  };
}

/** Signs status URLs in the test app; at least 32 characters, as Errand requires. */
export const SECRET = "web-app-test-secret-long-enough-0123456789";

/** The running example and the test's handles on it. */
export class WebAppHarness {
  /** The app's base URL. */
  base = "";
  readonly requests: SeenRequest[] = [];
  private server!: Server;
  private worker: Worker | undefined;
  private feedHolds = new Map<number, ReturnType<typeof hold>>();
  private reportHolds = new Map<number, ReturnType<typeof hold>>();
  private reconnectHold: ReturnType<typeof hold<SeenRequest>> | undefined;
  private releaseAll = false;

  private constructor(
    readonly runtime: Runtime,
    readonly feeds: FeedServer,
    readonly browser: TestBrowser,
  ) {}

  /** Starts everything on the wiring's backend. */
  static async start(wiring: WebAppWiring): Promise<WebAppHarness> {
    const runtime = configure({ ...config, adapter: await wiring.adapter() });
    await runtime.start();
    let harness!: WebAppHarness;
    const feeds = await startFeedServer({ totalMs: 0, beforeChunk: (index) => harness.atFeedChunk(index) });
    harness = new WebAppHarness(runtime, feeds, await launchBrowser());
    reportPacing.beforeStep = (index) => harness.atReportStep(index);
    const client = await runtime.adapterFor();
    if (!client.capabilities.embeddedWorker) {
      harness.worker = new Worker({ runtime, queues: ["feeds", "reports"], concurrency: 4, pollInterval: "100ms" });
      await harness.worker.start();
    }
    // A short retry: EventSource reconnects 100 ms after a cut instead of the default 2 s.
    const app = createWebApp({ feedUrl: feeds.rssUrl, secret: SECRET, retry: 100 });
    harness.server = createServer((req, res) => {
      const seen: SeenRequest = { method: req.method ?? "?", path: req.url ?? "/", lastEventId: req.headers["last-event-id"] as string | undefined };
      harness.requests.push(seen);
      // What the page was answered, for a test's failure message (a stream refused, or silent).
      const at = performance.now();
      const write = res.write.bind(res) as (...args: unknown[]) => boolean;
      res.write = ((...args: unknown[]) => {
        seen.status ??= res.statusCode;
        seen.firstBytesMs ??= Math.round(performance.now() - at);
        return write(...args);
      }) as typeof res.write;
      res.once("finish", () => (seen.status ??= res.statusCode));
      const reconnect = harness.reconnectHold;
      if (reconnect && seen.lastEventId !== undefined && seen.path.includes("/events")) {
        harness.reconnectHold = undefined;
        void reconnect.arrive(seen).then(() => app(req, res));
      } else app(req, res);
    });
    harness.server.listen(0, "127.0.0.1");
    await once(harness.server, "listening");
    harness.base = `http://127.0.0.1:${(harness.server.address() as AddressInfo).port}`;
    return harness;
  }

  /** Holds the feed server before chunk `index` of the next feed it sends (8 chunks a feed). */
  holdFeed(index: number): Hold {
    const held = hold();
    this.feedHolds.set(index, held);
    return held;
  }

  /** Holds the next `ReportJob` before step `index` (0–4). */
  holdReport(index: number): Hold {
    const held = hold();
    this.reportHolds.set(index, held);
    return held;
  }

  /** Holds the next event-stream request that carries `Last-Event-ID` until released. */
  holdReconnects(): Hold<SeenRequest> {
    const held = hold<SeenRequest>();
    this.reconnectHold = held;
    return held;
  }

  /** Drops every open connection to the app, event streams included. */
  cutConnections(): void {
    this.server.closeAllConnections();
  }

  /** Requests for a job's status: its event streams and its JSON polls. */
  statusRequests(jobId: string): { streams: SeenRequest[]; polls: SeenRequest[] } {
    const mine = this.requests.filter((request) => request.path.startsWith(`/jobs/${jobId}`));
    return { streams: mine.filter((request) => request.path.startsWith(`/jobs/${jobId}/events`)), polls: mine.filter((request) => request.path.startsWith(`/jobs/${jobId}?`)) };
  }

  /** Lets go of every hold (after each test: a held job must not outlive it). */
  releaseHolds(): void {
    for (const held of [...this.feedHolds.values(), ...this.reportHolds.values()]) held.release();
    this.feedHolds.clear();
    this.reportHolds.clear();
    this.reconnectHold?.release();
    this.reconnectHold = undefined;
  }

  async close(): Promise<void> {
    this.releaseAll = true;
    this.releaseHolds();
    this.server.closeAllConnections();
    this.server.close();
    await Promise.all([this.browser.close(), this.feeds.close()]);
    await this.worker?.stop();
    await this.runtime.close();
  }

  private async atFeedChunk(index: number): Promise<void> {
    const held = this.releaseAll ? undefined : this.feedHolds.get(index);
    if (!held) return;
    this.feedHolds.delete(index);
    await held.arrive(undefined);
  }

  private async atReportStep(index: number): Promise<void> {
    const held = this.releaseAll ? undefined : this.reportHolds.get(index);
    if (!held) return;
    this.reportHolds.delete(index);
    await held.arrive(undefined);
  }
}
