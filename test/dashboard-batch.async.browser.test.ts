// The batch page in Chromium on the async adapter: a batch with one job held at its gate
// shows running; released, the page follows it to finished without reloading (the queue
// feed's change fetches it again, and the batch's signature changed), its onComplete
// callback linked to the callback's job page.
import { AsyncAdapter } from "@errand/adapter-async";
import { batch } from "@errand/core";
import { waitFor } from "@errand/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { DashboardHarness } from "./dashboard/harness.js";
import { hold, release, ReportJob, SIGNUP, WelcomeJob } from "./dashboard/seed.js";

const DEADLINE_MS = 20_000;

describe("the batch page on async, in Chromium", () => {
  let app: DashboardHarness;
  beforeAll(async () => {
    app = await DashboardHarness.start({ name: "async", adapter: async () => new AsyncAdapter() });
  }, 60_000);
  afterAll(async () => {
    const errors = app?.browser.pageErrors ?? [];
    await app?.close();
    expect(errors, "uncaught errors in the pages").toEqual([]);
  });

  it("follows a batch to its end without reloading, and links its callback's job", async () => {
    hold("batch-held");
    const id = await batch([new WelcomeJob(SIGNUP, "batch-held"), new WelcomeJob(SIGNUP, "batch-free")], { description: "welcome mails", onComplete: [ReportJob, []] });
    await waitFor(async () => (await batch.status(id))?.succeeded === 1, { timeoutMs: DEADLINE_MS, message: "the free job of the batch to succeed" });
    const page = await app.open(`/batches/${id}`);
    expect(await page.locator("[data-batch-state]").textContent()).toBe("running");
    expect(await page.locator("h1 .job-class").textContent()).toBe("welcome mails");
    expect(await page.locator(".batch-bar").getAttribute("aria-label")).toBe("1 succeeded, 0 discarded, 0 dead, 1 pending of 2");
    await expect.poll(() => page.locator("[data-live-status]").textContent()).toBe("live");

    release("batch-held");
    await page.waitForSelector('[data-batch-state]:text("finished")', { timeout: DEADLINE_MS });
    expect(await page.evaluate("window.sameDocument"), "the page did not reload").toBe(true);
    expect(await page.locator(".batch-bar").getAttribute("aria-label")).toBe("2 succeeded, 0 discarded, 0 dead, 0 pending of 2");
    const callback = (await batch.status(id))!.enqueuedCallbacks.complete!;
    const link = page.locator(`#callbacks-title ~ .table-wrap a[href$="/jobs/${callback}"]`);
    expect(await link.count()).toBe(1);
    await link.click();
    await page.waitForSelector("h1 .job-class");
    expect(await page.locator("h1 .job-class").textContent()).toBe("ReportJob");
    await page.close();
  }, 30_000);
});
