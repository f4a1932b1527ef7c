// The dashboard's actions on the async adapter, posted as its forms post them (issue 15):
// retry and discard dead and retrying jobs — one, a selection (after a confirmation page),
// or all matching a filter; run a scheduled job now; cancel a queued job; abort a running
// one; pause and resume a queue; run a recurring task now. Each checks the backend's state
// afterwards, not only the redirect.
import { AsyncAdapter } from "@errand/adapter-async";
import { jobs, queues, type Runtime } from "@errand/core";
import { waitFor } from "@errand/core/testing";
import { dashboard } from "@errand/dashboard";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { failing, hold, release, releaseAll, seed, signalled, SIGNUP, startApp, SyncJob, WelcomeJob } from "./dashboard/seed.js";
import { Session } from "./support/dashboard.js";

let runtime: Runtime;
let session: Session;
beforeAll(async () => {
  ({ runtime } = await startApp(new AsyncAdapter()));
  session = await new Session(dashboard({ basePath: "/ops", authorize: () => true })).start("/ops/");
}, 30_000);
afterAll(async () => {
  releaseAll();
  await runtime.close();
});

const stateOf = async (id: string) => (await jobs().get(id))?.state;
const settles = (id: string, state: string) => waitFor(async () => (await stateOf(id)) === state, { timeoutMs: 10_000, message: `${id} ${state}` });
const post = (fields: Record<string, string | string[]>) => session.post("/ops/actions/jobs", { return: "/ops/jobs?state=dead", ...fields });
const notice = (response: Response) => {
  expect(response.status).toBe(303);
  return Object.fromEntries(new URL(response.headers.get("location")!, "http://x").searchParams);
};

/** A dead WelcomeJob that succeeds when retried. */
async function deadJob(label: string, queue = "mailers"): Promise<string> {
  failing.add(label);
  const { jobId } = await WelcomeJob.set({ queue }).performLater(SIGNUP, label);
  await settles(jobId, "dead");
  failing.delete(label);
  return jobId;
}

describe("dashboard actions on jobs", () => {
  it("retries one dead job at once, and it runs", async () => {
    const id = await deadJob("retry-one");
    expect(notice(await post({ action: "retry", state: "dead", ids: id }))).toMatchObject({ state: "dead", notice: "retried", n: "1", of: "1" });
    await settles(id, "succeeded");
  });

  it("asks before discarding, then deletes the dead job", async () => {
    const id = await deadJob("discard-one");
    const ask = await post({ action: "discard", state: "dead", ids: id });
    expect(ask.status).toBe(200);
    const text = await ask.text();
    expect(text).toContain(`<h1>Discard job ${id}?</h1>`);
    expect(text).toContain('<input type="hidden" name="confirm" value="1">');
    expect(text).toContain(`<input type="hidden" name="_csrf" value="${session.token}">`);
    expect(await stateOf(id)).toBe("dead"); // nothing done yet
    expect(notice(await post({ action: "discard", state: "dead", ids: id, confirm: "1" }))).toMatchObject({ notice: "discarded", n: "1" });
    expect((await (await runtime.adapterFor()).listDead({})).some((job) => job.id === id)).toBe(false);
  });

  it("retries a selection after a confirmation page", async () => {
    const selected = [await deadJob("sel-1"), await deadJob("sel-2")];
    const ask = await post({ action: "retry", state: "dead", ids: selected });
    expect(await ask.text()).toContain("<h1>Retry the 2 selected dead jobs?</h1>");
    expect(notice(await post({ action: "retry", state: "dead", ids: selected, confirm: "1" }))).toMatchObject({ n: "2", of: "2" });
    for (const id of selected) await settles(id, "succeeded");
  });

  it("retries all dead jobs of a queue in one backend call, leaving other queues' alone", async () => {
    const ours = [await deadJob("all-1", "bulk"), await deadJob("all-2", "bulk")];
    const other = await deadJob("all-other", "elsewhere");
    expect(await (await post({ action: "retry:all", state: "dead", queue: "bulk" })).text()).toContain("<h1>Retry all dead jobs of queue bulk?</h1>");
    expect(notice(await post({ action: "retry:all", state: "dead", queue: "bulk", confirm: "1" }))).toMatchObject({ notice: "retried", n: "2" });
    for (const id of ours) await settles(id, "succeeded");
    expect(await stateOf(other)).toBe("dead");
  });

  it("discards all dead jobs of a class page by page (the job filter lists them)", async () => {
    failing.add("by-class");
    const mine: string[] = [];
    for (let index = 0; index < 3; index++) mine.push((await SyncJob.set({ queue: "classy" }).performLater(index, "by-class")).jobId);
    // SyncJob retries an hour apart: run each now until its five attempts are spent.
    for (let attempt = 0; attempt < 5; attempt++) {
      await waitFor(async () => (await Promise.all(mine.map(stateOf))).every((state) => state === "retrying" || state === "dead"), { timeoutMs: 10_000, message: "attempt done" });
      const retrying = (await Promise.all(mine.map(async (id) => ((await stateOf(id)) === "retrying" ? id : undefined)))).filter((id) => id !== undefined);
      if (retrying.length) await jobs().runNow(retrying);
    }
    for (const id of mine) await settles(id, "dead");
    const other = await deadJob("class-other", "classy");
    expect(notice(await post({ action: "discard:all", state: "dead", queue: "classy", job: "SyncJob", confirm: "1" }))).toMatchObject({ notice: "discarded", n: "3", of: "3" });
    const dead = await (await runtime.adapterFor()).listDead({ queue: "classy" });
    expect(dead.map((job) => job.id)).toEqual([other]);
    failing.delete("by-class");
  });

  it("retries a retrying job now, and discards one (cancelled, failed)", async () => {
    failing.add("retrying-now");
    const now = (await SyncJob.performLater(1, "retrying-now")).jobId;
    const gone = (await SyncJob.performLater(2, "retrying-now")).jobId;
    await settles(now, "retrying");
    await settles(gone, "retrying");
    failing.delete("retrying-now");
    expect(notice(await post({ action: "retry", state: "retrying", ids: now }))).toMatchObject({ notice: "retried", n: "1" });
    await settles(now, "succeeded");
    expect(notice(await post({ action: "discard", state: "retrying", ids: gone, confirm: "1" }))).toMatchObject({ notice: "discarded", n: "1" });
    expect((await jobs().get(gone))).toMatchObject({ state: "failed", error: { name: "JobCancelledError" } });
  });

  it("runs a scheduled job now, and cancels another", async () => {
    const soon = (await WelcomeJob.set({ wait: "1h" }).performLater(SIGNUP, "run-now")).jobId;
    const never = (await WelcomeJob.set({ wait: "1h" }).performLater(SIGNUP, "cancel-scheduled")).jobId;
    expect(notice(await post({ action: "runNow", state: "scheduled", ids: soon }))).toMatchObject({ notice: "ranNow", n: "1" });
    await settles(soon, "succeeded");
    expect(notice(await post({ action: "cancel", state: "scheduled", ids: never, confirm: "1" }))).toMatchObject({ notice: "cancelled" });
    expect(await jobs().get(never)).toMatchObject({ state: "failed", error: { code: "ERR_JOB_CANCELLED" } });
  });

  it("cancels a queued job in a paused queue", async () => {
    const { queued } = await seed(runtime, "cancel"); // its queued job sits in "held", paused
    expect(notice(await post({ action: "cancel", state: "queued", ids: queued, confirm: "1" }))).toMatchObject({ notice: "cancelled", n: "1" });
    expect(await jobs().get(queued)).toMatchObject({ state: "failed", error: { name: "JobCancelledError" } });
  });

  it("aborts a running job: its signal fires and it ends failed", async () => {
    hold("abort-me");
    const { jobId } = await WelcomeJob.performLater(SIGNUP, "abort-me");
    await settles(jobId, "running");
    expect(notice(await post({ action: "abort", state: "running", ids: jobId, confirm: "1" }))).toMatchObject({ notice: "aborted", n: "1" });
    await settles(jobId, "failed");
    expect((await jobs().get(jobId))?.error).toMatchObject({ name: "JobAbortedError" });
  });

  it("interrupts a running job without asking: its signal fires, it runs again and succeeds", async () => {
    hold("interrupt-me");
    const { jobId } = await WelcomeJob.performLater(SIGNUP, "interrupt-me");
    await settles(jobId, "running");
    expect(notice(await post({ action: "interrupt", state: "running", ids: jobId }))).toMatchObject({ notice: "interrupted", n: "1" });
    await waitFor(() => signalled.includes("interrupt-me"), { timeoutMs: 10_000, message: "the job's signal to fire" });
    // Handed back, it waits at its gate again; WelcomeJob dies at its first failure, so a failure would show.
    await settles(jobId, "running");
    release("interrupt-me");
    await settles(jobId, "succeeded");
    expect((await jobs().get(jobId))?.attempts).toEqual([]);
  });

  it("counts jobs that moved on meanwhile as not done", async () => {
    const id = await deadJob("moved-on");
    expect(notice(await post({ action: "retry", state: "dead", ids: [id, "01a00000-0000-7000-8000-000000000000"], confirm: "1" }))).toMatchObject({ n: "1", of: "2" });
  });

  it("refuses what does not apply, and says why", async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ action: "explode", state: "dead", ids: "x" }, /unknown action &quot;explode&quot;/],
      [{ action: "abort", state: "dead", ids: "x" }, /Abort does not apply to dead jobs/],
      [{ action: "retry", state: "lost", ids: "x" }, /unknown state &quot;lost&quot;/],
      [{ action: "retry:some", state: "dead", ids: "x" }, /unknown action/],
    ];
    for (const [fields, message] of cases) {
      const response = await post(fields);
      expect(response.status).toBe(400);
      expect(await response.text()).toMatch(message);
    }
    expect(notice(await post({ action: "retry", state: "dead" }))).toMatchObject({ notice: "noneSelected" });
  });

  it("returns only to the dashboard's own pages", async () => {
    for (const evil of ["https://evil.example/", "//evil.example/ops", "/elsewhere", "/ops\\..\\x"]) {
      const response = await session.post("/ops/actions/jobs", { action: "retry", state: "dead", return: evil });
      expect(response.headers.get("location")).toBe("/ops/?notice=noneSelected");
    }
  });
});

describe("dashboard actions on queues and recurring tasks", () => {
  it("pauses and resumes a queue", async () => {
    expect(notice(await session.post("/ops/actions/queues", { action: "pause", queue: "mailers", return: "/ops/" }))).toMatchObject({ notice: "paused", subject: "mailers" });
    expect((await queues().list()).find((queue) => queue.name === "mailers")?.paused).toBe(true);
    expect(notice(await session.post("/ops/actions/queues", { action: "resume", queue: "mailers", return: "/ops/" }))).toMatchObject({ notice: "resumed" });
    expect((await queues().list()).find((queue) => queue.name === "mailers")?.paused).toBe(false);
    expect((await session.post("/ops/actions/queues", { action: "drain", queue: "mailers" })).status).toBe(400);
  });

  it("runs a recurring task now, and refuses an unknown one", async () => {
    const done = notice(await session.post("/ops/actions/recurring", { name: "nightly-report", return: "/ops/recurring" }));
    expect(done).toMatchObject({ notice: "enqueued", subject: "nightly-report" });
    await settles(done.jobid!, "succeeded");
    const unknown = await session.post("/ops/actions/recurring", { name: "weekly" });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain("unknown recurring task &quot;weekly&quot;; known tasks: nightly-report");
  });
});
