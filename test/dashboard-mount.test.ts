// The dashboard's mounting examples (issue 15): examples/dashboard/{node-http,express,
// fastify,hono} each mount it under /errand behind Basic authentication. Each is started
// here, as built, and used over real HTTP: a challenge without credentials, the overview
// with them, the stylesheet gzipped, the live stream, an action with the page's CSRF token
// (and a refusal without it), and the app's own page beside the dashboard.
import type { Runtime } from "@errand/core";
import { configure, queues } from "@errand/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import * as express from "../examples/dist/dashboard/express.js";
import * as fastify from "../examples/dist/dashboard/fastify.js";
import * as hono from "../examples/dist/dashboard/hono.js";
import * as nodeHttp from "../examples/dist/dashboard/node-http.js";
import { InviteJob, type MountedApp, type StartOptions } from "../examples/dist/dashboard/shared.js";
import { readEvents } from "./support/sse.js";

const PASSWORD = "mount-test-password";
const auth = { authorization: `Basic ${Buffer.from(`ops:${PASSWORD}`).toString("base64")}` };

let runtime: Runtime;
beforeAll(async () => {
  runtime = configure({ adapter: "async", jobs: [InviteJob] });
  await runtime.start();
  await InviteJob.set({ wait: "1h" }).performLater({ email: "ada@example.com", token: "inv_secret_123" });
});
afterAll(() => runtime.close());

const frameworks: [string, { start(options: StartOptions): Promise<MountedApp> }][] = [
  ["node:http", nodeHttp],
  ["Express 5", express],
  ["Fastify 5", fastify],
  ["Hono 4", hono],
];

describe.each(frameworks)("examples/dashboard: %s", (_name, example) => {
  let app: MountedApp;
  beforeAll(async () => {
    app = await example.start({ password: PASSWORD });
  });
  afterAll(() => app.close());

  it("challenges a request without credentials, or with wrong ones", async () => {
    for (const headers of [{}, { authorization: `Basic ${Buffer.from("ops:nope").toString("base64")}` }] as Record<string, string>[]) {
      const response = await fetch(`${app.url}/errand/`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Basic realm="Errand"/);
    }
  });

  it("serves the overview, a job list with arguments redacted, and the gzipped stylesheet", async () => {
    const overview = await fetch(`${app.url}/errand`, { headers: auth });
    expect(overview.status).toBe(200);
    const text = await overview.text();
    expect(text).toContain('<tr data-queue="mailers"');
    const scheduled = await (await fetch(`${app.url}/errand/jobs?state=scheduled`, { headers: auth })).text();
    expect(scheduled).toContain("&quot;token&quot;:&quot;[FILTERED]&quot;");
    expect(scheduled).not.toContain("inv_secret_123");
    const css = await fetch(`${app.url}${/href="([^"]+\.css)"/.exec(text)![1]}`, { headers: { ...auth, "accept-encoding": "gzip" } });
    expect(css.status).toBe(200);
    expect(css.headers.get("content-encoding")).toBe("gzip");
    expect(css.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await css.text()).toContain(":focus-visible");
  });

  it("streams the queue counts", async () => {
    const controller = new AbortController();
    const response = await fetch(`${app.url}/errand/live/queues`, { headers: auth, signal: controller.signal });
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    for await (const event of readEvents(response.body!)) {
      if (event.event !== "queues") continue;
      expect(event.data).toContain('"name":"mailers"');
      break;
    }
    controller.abort();
  });

  it("acts with the page's CSRF token and refuses without it", async () => {
    const page = await fetch(`${app.url}/errand/`, { headers: auth });
    const cookie = page.headers.get("set-cookie")!.split(";")[0]!;
    const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const form = (withToken: boolean) => new URLSearchParams({ ...(withToken ? { _csrf: token } : {}), action: "pause", queue: "mailers", return: "/errand/" });
    const headers = { ...auth, cookie, origin: app.url, "content-type": "application/x-www-form-urlencoded" };
    const refused = await fetch(`${app.url}/errand/actions/queues`, { method: "POST", headers, body: form(false), redirect: "manual" });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain("the form carried no CSRF token");
    const done = await fetch(`${app.url}/errand/actions/queues`, { method: "POST", headers, body: form(true), redirect: "manual" });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe("/errand/?notice=paused&subject=mailers");
    expect((await queues().list()).find((queue) => queue.name === "mailers")?.paused).toBe(true);
    await queues().resume("mailers");
  });

  it("leaves the app's own routes to the app", async () => {
    const response = await fetch(`${app.url}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("the app's own page");
  });
});
