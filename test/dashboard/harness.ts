/**
 * The dashboard in a real browser against one backend: the seeded app (`seed.ts`) with a
 * worker, the dashboard behind Basic authentication in a `node:http` server (as
 * examples/dashboard/node-http does), and headless Chromium. Pages opened with
 * `open(path)` carry the credentials; `openAnonymous` opens one without them.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import { toNodeHandler } from "@errand/core";
import type { Adapter } from "@errand/core/adapter";
import { basicAuth, dashboard, type Dashboard } from "@errand/dashboard";
import type { Page } from "playwright-core";

import { launchBrowser, type TestBrowser } from "../support/browser.js";
import { releaseAll, seed, startApp, type SeededApp, type Seeded } from "./seed.js";

/** What one backend's dashboard browser test provides. */
export interface DashboardWiring {
  /** Backend name in test titles. */
  name: string;
  /** A fresh adapter, isolated from every other test file's. */
  adapter(): Promise<Adapter>;
  /** Removes what the adapter left behind (keys, schemas), after the runtime closed. */
  cleanup?(): Promise<void>;
}

/** The Basic-auth credentials of the test dashboard. */
export const CREDENTIALS = { username: "ops", password: "browser-test-password" };
const AUTHORIZATION = `Basic ${Buffer.from(`${CREDENTIALS.username}:${CREDENTIALS.password}`).toString("base64")}`;

/** The running app, dashboard and browser. */
export class DashboardHarness {
  /** The dashboard's URL, `http://127.0.0.1:<port>/errand`. */
  base = "";
  private server!: Server;

  private constructor(
    readonly app: SeededApp,
    readonly ids: Seeded,
    readonly ui: Dashboard,
    readonly browser: TestBrowser,
  ) {}

  /** Starts everything on the wiring's backend and seeds jobs in every state. */
  static async start(wiring: DashboardWiring): Promise<DashboardHarness> {
    const app = await startApp(await wiring.adapter());
    const ids = await seed(app.runtime);
    // A short live interval: counts reach the page within half a second.
    const ui = dashboard({ basePath: "/errand", authorize: basicAuth(CREDENTIALS), liveInterval: 500, filterArguments: ["passw", "token", "*.card.number"] });
    const harness = new DashboardHarness(app, ids, ui, await launchBrowser());
    harness.server = createServer(toNodeHandler(ui));
    harness.server.listen(0, "127.0.0.1");
    await once(harness.server, "listening");
    harness.base = `http://127.0.0.1:${(harness.server.address() as AddressInfo).port}/errand`;
    return harness;
  }

  /** Opens `path` (below the base) with the credentials; resolves once the page script ran. */
  async open(path = "/"): Promise<Page> {
    const page = await this.browser.newPage();
    await page.setExtraHTTPHeaders({ authorization: AUTHORIZATION });
    await page.goto(`${this.base}${path}`);
    await page.waitForSelector("body[data-ready]");
    // Gone if the page reloads: what a test checks after this must reach this same document.
    await page.evaluate("window.sameDocument = true");
    return page;
  }

  /** Opens a page without credentials. */
  async openAnonymous(): Promise<Page> {
    return this.browser.newPage();
  }

  async close(): Promise<void> {
    releaseAll();
    this.ui.closeStreams();
    this.server.closeAllConnections();
    this.server.close();
    await this.browser.close();
    await this.app.worker?.stop();
    await this.app.runtime.close();
  }
}
