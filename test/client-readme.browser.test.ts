// packages/client/README.md's example is test/support/pages/readme-example.ts verbatim, and
// it runs: in Chromium, against the status-protocol fixture standing in for the app, the
// page shows the job's progress, then its result.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { waitFor } from "@errand/core/testing";

import { type TestBrowser, launchBrowser } from "./support/browser.js";
import { bundlePage, htmlPage } from "./support/bundle.js";
import { type FixtureJob, type StatusFixture, startStatusFixture } from "./support/status-fixture.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, "utf8");
const EXAMPLE = "test/support/pages/readme-example.ts";

let browser: TestBrowser;
let fixture: StatusFixture;
beforeAll(async () => {
  [browser, fixture] = await Promise.all([launchBrowser(), startStatusFixture()]);
});
afterAll(async () => {
  await browser?.close();
  await fixture?.close();
});

describe("the @errand/client README", () => {
  it(`shows ${EXAMPLE} verbatim`, () => {
    const readme = read("packages/client/README.md");
    const from = readme.indexOf(`[\`${EXAMPLE}\`]`);
    expect(from).toBeGreaterThanOrEqual(0);
    const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(from))![1];
    expect(block).toBe(read(EXAMPLE).replace(/^\/\/ The runnable example of .*\n/, ""));
  });

  it("its example shows progress, then the result", async () => {
    let job: FixtureJob | undefined;
    fixture.route("POST", "/reports", (_request, response) => {
      job = fixture.job({ job: "ReportJob" });
      response.writeHead(201, { "content-type": "application/json" });
      response.end(JSON.stringify({ jobId: job.id, token: job.token }));
    });
    fixture.serve("/example.js", "text/javascript", await bundlePage("readme-example.ts"));
    fixture.serve("/report.html", "text/html", htmlPage({ title: "report", body: '<progress max="1"></progress><output></output>', script: "/example.js" }));
    const page = await browser.newPage();
    await page.goto(`${fixture.origin}/report.html`);
    const shows = (text: string) =>
      waitFor(async () => (await page.textContent("output")) === text, { message: `the page to show "${text}"`, timeoutMs: 10_000 });

    await shows("queued");
    job!.set({ state: "running", progress: { fraction: 0.25, message: "summing rows" } });
    await shows("summing rows");
    expect(await page.$eval("progress", (bar) => (bar as unknown as { value: number }).value)).toBe(0.25);
    job!.set({ state: "succeeded", progress: { fraction: 1 }, result: { rows: 42 } });
    await shows("42 rows");
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });
});
