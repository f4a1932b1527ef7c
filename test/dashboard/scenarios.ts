/**
 * The dashboard's browser tests (issue 15): one scenario module, run against each backend
 * by a thin file (test/dashboard.<backend>.browser.test.ts). Each reads the page's DOM and
 * waits for it with a deadline; jobs are held or failed by the seed where a scenario needs
 * them to stand still, never timed. "Without reloading" is checked: a marker set on the
 * window when the page opened must still be there.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { jobs, queues } from "@errand/core";
import { waitFor } from "@errand/core/testing";

import { DashboardHarness, type DashboardWiring } from "./harness.js";
import { steps } from "./steps.js";
import { failing, hold, release, ReportJob, signalled, SIGNUP, SyncJob, waitForPause, WelcomeJob } from "./seed.js";

/** Jobs on backends with a worker poll and hop; generous, since a failure here is a hang. */
const DEADLINE_MS = 20_000;
/** A scenario's named steps share this, under the 30 s test timeout so a step names itself (steps.ts). */
const STEP_BUDGET_MS = 25_000;

/** Every control without an accessible name, as `tag: outerHTML` (computed in the page). */
const UNLABELLED = `[...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1'])")]
  .filter((el) => !el.hidden && el.getClientRects().length > 0)
  .filter((el) => {
    const by = el.getAttribute("aria-labelledby");
    const name = el.getAttribute("aria-label") || (by && by.split(" ").map((id) => document.getElementById(id)?.textContent ?? "").join(" ")) ||
      [...(el.labels ?? [])].map((label) => label.textContent).join(" ") || el.textContent || el.getAttribute("title") || "";
    return name.trim() === "";
  })
  .map((el) => el.outerHTML.slice(0, 120))`;

/** Runs every dashboard scenario against one backend. */
export function runDashboardScenarios(wiring: DashboardWiring): void {
  describe(`the dashboard on ${wiring.name}, in Chromium`, () => {
    let app: DashboardHarness;
    beforeAll(async () => {
      app = await DashboardHarness.start(wiring);
    }, 60_000);
    afterAll(async () => {
      const errors = app?.browser.pageErrors ?? [];
      await app?.close();
      await wiring.cleanup?.();
      expect(errors, "uncaught errors in the pages").toEqual([]);
    });

    const sameDocument = async (page: Page) => expect(await page.evaluate("window.sameDocument"), "the page did not reload").toBe(true);
    const cell = (page: Page, queue: string, state: string) => page.locator(`tr[data-queue="${queue}"] [data-count="${state}"]`);

    it("opens the overview, filters jobs, opens a job", async () => {
      const page = await app.open("/");
      await expect.poll(() => page.locator("h1").textContent()).toContain("Overview");
      expect(await page.locator('tr[data-queue="held"] .badge.paused').textContent()).toBe("paused");
      await page.getByRole("link", { name: "Jobs", exact: true }).click();
      await page.getByRole("link", { name: /^Retrying/ }).click();
      await page.getByLabel("Queue").selectOption("sync");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.waitForURL(/state=retrying&queue=sync/);
      const link = page.locator(`a[href$="/jobs/${app.ids.retrying}"]`);
      expect(await link.count()).toBe(1);
      await link.click();
      await page.waitForSelector('[data-job-state]:text("retrying")');
      expect(await page.locator("h1 .job-class").textContent()).toBe("SyncJob");
      expect(await page.locator("#attempts-title").textContent()).toBe("Attempts that failed");
      await page.close();
    });

    it("retries a dead job and shows it succeed without reloading", async () => {
      const page = await app.open(`/jobs/${app.ids.dead}`);
      expect(await page.locator("[data-job-state]").textContent()).toBe("dead");
      expect(await page.locator("#args-title + pre").textContent()).toContain('"password": "[FILTERED]"');
      failing.clear(); // the retry succeeds…
      hold("seed-dead"); // …once the test lets it: the page shows it running first
      await page.getByRole("button", { name: "Retry" }).click();
      await page.waitForSelector('[data-job-state]:text("running")', { timeout: DEADLINE_MS });
      await expect.poll(() => page.locator("[data-progress-message]").textContent()).toBe("rendering");
      release("seed-dead");
      await page.waitForSelector('[data-job-state]:text("succeeded")', { timeout: DEADLINE_MS });
      await expect.poll(() => page.locator(".notice").textContent()).toContain("Retried 1 job.");
      await sameDocument(page);
      await page.close();
    });

    it("interrupts a running job from its page: it runs again from the start and succeeds", async () => {
      hold("to-interrupt");
      const { jobId } = await WelcomeJob.performLater(SIGNUP, "to-interrupt");
      await waitFor(async () => (await jobs().get(jobId))?.state === "running", { timeoutMs: DEADLINE_MS, message: "the job running" });
      const page = await app.open(`/jobs/${jobId}`);
      expect(await page.getByRole("button", { name: "Abort" }).count()).toBe(1);
      await page.getByRole("button", { name: "Interrupt" }).click();
      await expect.poll(() => page.locator(".notice").textContent()).toContain("Asked 1 job to stop and run again");
      await waitFor(() => signalled.includes("to-interrupt"), { timeoutMs: DEADLINE_MS, message: "the job's signal to fire" });
      // Handed back, not failed: it runs again and waits at its gate (a failure would kill it: one attempt).
      await waitFor(async () => (await jobs().get(jobId))?.state === "running", { timeoutMs: DEADLINE_MS, message: "the job running again" });
      release("to-interrupt");
      await page.waitForSelector('[data-job-state]:text("succeeded")', { timeout: DEADLINE_MS });
      await sameDocument(page);
      await page.close();
    });

    it("discards a selected dead job after a confirmation dialog", async () => {
      failing.add("to-discard");
      const { jobId } = await WelcomeJob.performLater(SIGNUP, "to-discard");
      await waitFor(async () => (await jobs().get(jobId))?.state === "dead", { timeoutMs: DEADLINE_MS, message: "the job dead" });
      const page = await app.open("/jobs?state=dead");
      let asked = "";
      page.once("dialog", (dialog) => {
        asked = dialog.message();
        void dialog.accept();
      });
      await page.getByLabel(`Select job ${jobId}`).check();
      await page.getByRole("button", { name: "Discard selected" }).click();
      await expect.poll(() => page.locator(".notice").textContent()).toContain("Discarded 1 job.");
      expect(asked).toBe("Discard the selected jobs?");
      expect(await page.locator(`a[href$="/jobs/${jobId}"]`).count()).toBe(0);
      await sameDocument(page);
      await page.close();
    });

    it("pauses a queue: the worker stops taking from it, the counts follow live; then resumes it", async () => {
      const step = steps(STEP_BUDGET_MS);
      const page = await step("open the overview", () => app.open("/"));
      const seen = waitForPause(app.app.runtime, "sync");
      await step("pause sync from the page", async (timeout) => {
        await page.getByRole("button", { name: "Pause queue sync" }).click({ timeout });
        // The action's own answer (a live refresh may show the row paused before it lands).
        await expect.poll(() => page.locator(".notice").textContent({ timeout }), { timeout }).toContain("Paused queue sync");
        await page.waitForSelector('tr[data-queue="sync"].paused', { timeout });
      });
      await step("the worker leaves sync out", () => seen);
      const waiting = (await SyncJob.performLater(7, "after-pause")).jobId;
      const probe = (await ReportJob.performLater()).jobId; // enqueued after: proves the worker still reserves
      await step("a job of an open queue runs", (timeoutMs) => waitFor(async () => (await jobs().get(probe))?.state === "succeeded", { timeoutMs, message: "the open queue's job run" }));
      expect((await jobs().get(waiting))?.state).toBe("queued");
      await step("the page counts 1 queued in sync", (timeout) => expect.poll(() => cell(page, "sync", "queued").textContent({ timeout }), { timeout }).toBe("1"));
      await step("resume sync from the page", async (timeout) => {
        await page.getByRole("button", { name: "Resume queue sync" }).click({ timeout });
        await page.waitForSelector('tr[data-queue="sync"]:not(.paused)', { timeout });
      });
      await step("the paused job runs after resume", (timeoutMs) =>
        waitFor(async () => (await jobs().get(waiting))?.state === "succeeded", { timeoutMs, message: "the paused queue's job run after resume" }),
      );
      await step("the page counts 0 queued in sync", (timeout) => expect.poll(() => cell(page, "sync", "queued").textContent({ timeout }), { timeout }).toBe("0"));
      expect((await queues().list()).find((queue) => queue.name === "sync")?.paused).toBe(false);
      await sameDocument(page);
      await page.close();
    });

    it("keeps an action's answer when a live refresh begun before it answers after it", async () => {
      // Under load (two CI suites at once) the live feed's refresh of the page, begun just
      // before a pause was sent, answered after it and put back the page without the notice.
      const step = steps(STEP_BUDGET_MS);
      const page = await app.open("/");
      let asked!: () => void;
      const refreshAsked = new Promise<void>((resolve) => (asked = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const isRefresh = (url: URL) => url.pathname === new URL(`${app.base}/`).pathname && url.search === "";
      await page.route(isRefresh, async (route) => {
        if (route.request().resourceType() !== "fetch") return route.continue();
        asked();
        await released;
        await route.continue();
      });
      try {
        // A change the page has not seen: its live stream asks for a refresh, held here.
        await queues().pause("mailers");
        await step("the live feed asks for a refresh", () => refreshAsked);
        await step("the pause's answer lands first", async (timeout) => {
          await page.getByRole("button", { name: "Pause queue mailers" }).click({ timeout });
          await expect.poll(() => page.locator(".notice").textContent({ timeout }), { timeout }).toContain("Paused queue mailers");
        });
        expect(await page.locator("main").getAttribute("aria-busy"), "main is busy while the refresh is out").toBe("true");
        release();
        await step("the stale refresh is answered", (timeout) => page.waitForSelector("main:not([aria-busy])", { timeout }));
        // <main>, not .notice: without the fix the notice is gone and a locator would wait for it.
        expect(await page.locator("main").textContent(), "the action's notice after the stale refresh").toContain("Paused queue mailers");
        await sameDocument(page);
      } finally {
        release();
        await page.unrouteAll({ behavior: "ignoreErrors" });
        await queues().resume("mailers");
        await page.close();
      }
    });

    it("refuses a request without authorization", async () => {
      const page = await app.openAnonymous();
      const answered = page.waitForResponse(`${app.base}/`);
      // Chromium without credentials to offer ends the navigation on the 401 challenge.
      await page.goto(`${app.base}/`).catch(() => undefined);
      const response = await answered;
      expect(response.status()).toBe(401);
      expect(response.headers()["www-authenticate"]).toMatch(/^Basic realm="Errand"/);
      expect(await response.text()).not.toContain("Overview");
      await page.close();
    });

    it("refuses an action whose CSRF token is not this browser's", async () => {
      const page = await app.open("/");
      await page.evaluate(`document.querySelectorAll('input[name="_csrf"]').forEach((input) => (input.value = "${"x".repeat(43)}"))`);
      await page.getByRole("button", { name: "Pause queue mailers" }).click();
      await expect.poll(() => page.locator("p.error").textContent()).toContain("the form's CSRF token does not match this browser's");
      const status = (await page.evaluate(`fetch("${app.base}/actions/queues", { method: "POST", body: new URLSearchParams({ action: "pause", queue: "mailers" }) }).then((r) => r.status)`)) as number;
      expect(status).toBe(403);
      expect((await queues().list()).find((queue) => queue.name === "mailers")?.paused).toBe(false);
      await page.close();
    });

    it("is usable from the keyboard: skip link first, every control reachable by Tab, visible focus", async () => {
      const page = await app.open("/");
      await page.keyboard.press("Tab");
      expect(await page.evaluate("document.activeElement.textContent")).toBe("Skip to content");
      await page.keyboard.press("Enter");
      expect(await page.evaluate("document.activeElement.id")).toBe("main");
      const names: string[] = [];
      for (let step = 0; step < 80 && !names.includes("Pause queue mailers"); step++) {
        await page.keyboard.press("Tab");
        names.push((await page.evaluate("document.activeElement.getAttribute('aria-label') || document.activeElement.textContent.trim()")) as string);
      }
      expect(names).toContain("Pause queue mailers");
      expect(await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")).not.toBe("none");
      const seen = waitForPause(app.app.runtime, "mailers");
      await page.keyboard.press("Enter");
      await page.waitForSelector('tr[data-queue="mailers"].paused');
      await seen;
      await queues().resume("mailers");
      await page.close();
    });

    it("gives every control an accessible name, on every page", async () => {
      for (const path of ["/", "/jobs?state=dead", "/jobs?state=running", `/jobs/${app.ids.retrying}`, `/jobs/${app.ids.running}`, "/recurring", "/workers"]) {
        const page = await app.open(path);
        expect(await page.evaluate(UNLABELLED), path).toEqual([]);
        await page.close();
      }
    });
  });
}
