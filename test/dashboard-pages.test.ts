// Every dashboard page renders with the async adapter, jobs seeded in every state (issue 15):
// the overview's counts, paused queue and charts; each state's list with its filters and
// cursor pages; a job page with redacted arguments, progress, result, error with stack,
// attempts and timeline; recurring tasks; workers. And `filterArguments` in each of its
// forms, applied everywhere arguments are shown — a malformed dead job's raw body too.
import { AsyncAdapter } from "@errand/adapter-async";
import type { Runtime } from "@errand/core";
import { uuidv7, type JobPayload } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";
import { dashboard, type DashboardOptions } from "@errand/dashboard";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { releaseAll, seed, SIGNUP, startApp, WelcomeJob, type Seeded } from "./dashboard/seed.js";
import { get } from "./support/dashboard.js";

let runtime: Runtime;
let ids: Seeded;
let malformed: string;
beforeAll(async () => {
  ({ runtime } = await startApp(new AsyncAdapter()));
  ids = await seed(runtime);
  // A dead job whose payload is not wire format: its raw body is what the dashboard has.
  malformed = uuidv7();
  const body = { v: 2, job: "WelcomeJob", id: malformed, queue: "mailers", priority: 0, args: { json: [{ password: "in-raw-body", note: "kept" }] }, executions: 0, enqueuedAt: new Date().toISOString(), runAt: new Date().toISOString() };
  await (await runtime.adapterFor()).enqueue([body as unknown as JobPayload]);
  await waitFor(async () => (await runtime.adapterFor()).listDead({}).then((dead) => dead.some((job) => job.id === malformed)), { message: "the malformed job dead" });
}, 30_000);
afterAll(async () => {
  releaseAll();
  await runtime.close();
});

const ui = (options: Partial<DashboardOptions> = {}) => dashboard({ basePath: "/ops", authorize: () => true, ...options });
const page = async (path: string, options: Partial<DashboardOptions> = {}) => {
  const response = await get(ui(options), path);
  expect(response.status, path).toBe(200);
  return response.text();
};
const main = (text: string) => text.slice(text.indexOf("<main"), text.indexOf("</main>"));

describe("dashboard pages on the async adapter", () => {
  it("overview: every queue with its counts, latency, chart, and the paused one marked", async () => {
    const text = main(await page("/ops"));
    expect(text).toContain("async backend");
    for (const queue of ["mailers", "sync", "held", "reports"]) expect(text).toContain(`<tr data-queue="${queue}"`);
    expect(text).toMatch(/<tr data-queue="held" class="paused">\s*<th scope="row">held <span class="badge paused"/);
    expect(text).toContain('aria-label="Dead jobs of mailers: 2"'); // the seeded one and the malformed one
    expect(text).toContain('aria-label="Retrying jobs of sync: 1"');
    expect(text).toContain('aria-label="Queued jobs of held: 1"');
    expect(text).toMatch(/<svg class="chart"[^>]*aria-label="mailers, last 60 minutes: \d+ succeeded, \d+ failed/);
    expect(text).toContain('aria-label="Resume queue held"');
    expect(text).toContain('aria-label="Pause queue mailers"');
  });

  it("jobs: one list per state, each job linked", async () => {
    for (const [state, id] of Object.entries(ids)) {
      const text = main(await page(`/ops/jobs?state=${state}`));
      expect(text, state).toContain(`href="/ops/jobs/${id}"`);
      expect(text).toMatch(new RegExp(`<a href="/ops/jobs\\?state=${state}" aria-current="page">`));
    }
  });

  it("jobs: filters by queue, job class and id", async () => {
    expect(main(await page("/ops/jobs?state=dead&queue=sync"))).toContain("No jobs here.");
    expect(main(await page("/ops/jobs?state=dead&queue=mailers"))).toContain(ids.dead);
    expect(main(await page("/ops/jobs?state=retrying&job=WelcomeJob"))).toContain("No jobs here.");
    expect(main(await page("/ops/jobs?state=retrying&job=SyncJob"))).toContain(ids.retrying);
    const byId = main(await page(`/ops/jobs?state=queued&id=${ids.dead}`));
    expect(byId).toContain(`href="/ops/jobs/${ids.dead}"`);
    expect(byId).toContain('<span class="badge state-dead">dead</span>'); // found in another state than the tab's
    expect(main(await page(`/ops/jobs?state=queued&id=${uuidv7()}`))).toContain("No job with id");
  });

  it("jobs: a page at a time, by cursor, none twice and none skipped", async () => {
    const seen: string[] = [];
    let path: string | undefined = "/ops/jobs?state=succeeded";
    let pages = 0;
    while (path) {
      const text = main(await page(path, { pageSize: 2 }));
      if (pages > 0) expect(text).toContain(">First page</a>");
      seen.push(...[...text.matchAll(/<td><a href="\/ops\/jobs\/([0-9a-f-]{36})"/g)].map((match) => match[1]!));
      path = /<a href="([^"]+)" rel="next">/.exec(text)?.[1]?.replaceAll("&amp;", "&");
      pages++;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toContain(ids.succeeded);
    const total = Number(/data-total="succeeded">(\d+)</.exec(await page("/ops/jobs?state=succeeded"))![1]);
    expect(seen).toHaveLength(total);
    expect(pages).toBe(Math.ceil(total / 2));
  });

  it("job page: arguments redacted, progress, result, error with stack, attempts, timeline", async () => {
    const dead = main(await page(`/ops/jobs/${ids.dead}`));
    expect(dead).toContain('data-job-state>dead</span>');
    expect(dead).toContain("&quot;password&quot;: &quot;[FILTERED]&quot;");
    expect(dead).toContain("&quot;apiToken&quot;: &quot;[FILTERED]&quot;");
    expect(dead).not.toContain("hunter2");
    expect(dead).not.toContain("tok_live_123");
    expect(dead).toContain("&quot;email&quot;: &quot;ada@example.com&quot;");
    expect(dead).toContain('<progress max="1" value="0.5"');
    expect(dead).toContain("rendering");
    expect(dead).toMatch(/<pre class="stack">Error: SMTP refused seed-dead\n\s+at WelcomeJob.perform/);
    expect(dead).toMatch(/<h2 id="attempts-title">Attempts that failed<\/h2>[\s\S]*SMTP refused seed-dead/);
    expect(dead).toMatch(/<ol class="timeline">[\s\S]*Enqueued[\s\S]*Attempt 1 started[\s\S]*Attempt 1 failed[\s\S]*Ended <span class="badge state-dead">dead/);
    expect(dead).toContain('value="retry"');

    const succeeded = main(await page(`/ops/jobs/${ids.succeeded}`));
    expect(succeeded).toMatch(/<h2 id="result-title">Result<\/h2><pre class="json">\{\n {2}&quot;sent&quot;: 1,\n {2}&quot;at&quot;: &quot;2026-12-03T12:00:00.000Z&quot;\n\}<\/pre>/);
    expect(succeeded).not.toContain('<div class="actions"');

    const retrying = main(await page(`/ops/jobs/${ids.retrying}`));
    expect(retrying).toMatch(/Attempt 1 failed: <span class="error-name">TypeError<\/span>[\s\S]*Retry due/);
    const running = await page(`/ops/jobs/${ids.running}`);
    expect(running).toContain(`data-live="job" data-job-id="${ids.running}" data-state="running"`);
    expect(main(running)).toContain('value="abort"');
  });

  it("job page: an unknown job is 404", async () => {
    const response = await get(ui(), `/ops/jobs/${uuidv7()}`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("No such job");
  });

  it("recurring tasks: schedule, next run, why the last is unknown, run now", async () => {
    const text = main(await page("/ops/recurring"));
    expect(text).toContain('<th scope="row">nightly-report</th>');
    expect(text).toContain("Europe/Berlin");
    expect(text).toMatch(/<time datetime="\d{4}-\d\d-\d\dT0[12]:00:00.000Z"/); // 03:00 in Berlin
    expect(text).toContain("the async adapter keeps its state inside the app process");
    expect(text).toContain('aria-label="Run nightly-report now"');
  });

  it("workers: one that stopped beating is shown gone", async () => {
    const lastBeat = new Date(Date.now() - 60_000);
    const worker = { id: "gone-worker", host: "old-host", pid: 4242, adapter: "async", queues: "mailers", concurrency: 2, startedAt: lastBeat, running: [] };
    await (await runtime.adapterFor()).heartbeat({ worker, at: lastBeat, ttlMs: 10_000, finished: [] });
    const text = main(await page("/ops/workers"));
    expect(text).toMatch(/<tr class="gone">\s*<th scope="row"><code>old-host<\/code> <span class="muted">pid 4242<\/span> <span class="badge gone" title="No heartbeat since 1 min[^"]* ago">gone<\/span>/);
    expect(text).toMatch(/<caption>1 live, 1 gone<\/caption>/);
  });

  it("workers: the embedded pool, live, with the job it runs", async () => {
    await waitFor(async () => main(await page("/ops/workers")).includes(`href="/ops/jobs/${ids.running}"`), { message: "the running job on the workers page" });
    const text = main(await page("/ops/workers"));
    expect(text).toMatch(/<caption>1 live, \d+ gone<\/caption>/);
    expect(text).toContain(`pid ${process.pid}`);
    expect(text).toContain("<code>*</code>");
  });
});

describe("filterArguments", () => {
  const argsOf = async (options: Partial<DashboardOptions>, id = ids.dead) => {
    const text = main(await page(`/ops/jobs/${id}`, options));
    return /<h2 id="args-title">Arguments<\/h2>(.*?)<\/section>/s.exec(text)![1]!.replaceAll("&quot;", '"');
  };

  it("shows every argument with []", async () => {
    const args = await argsOf({ filterArguments: [] });
    expect(args).toContain('"password": "hunter2"');
    expect(args).toContain('"number": "4242424242424242"');
  });

  it("hides key-name fragments at any depth, case-insensitively", async () => {
    const args = await argsOf({ filterArguments: ["NUMB", "api"] });
    expect(args).toContain('"number": "[FILTERED]"');
    expect(args).toContain('"apiToken": "[FILTERED]"');
    expect(args).toContain('"password": "hunter2"'); // not in this list
  });

  it("hides a dotted path from the argument list, * for any segment", async () => {
    expect(await argsOf({ filterArguments: "0.card.number" })).toMatch(/"number": "\[FILTERED\]",\s+"brand": "visa"/);
    expect(await argsOf({ filterArguments: "1.card.number" })).toContain('"number": "4242424242424242"'); // the second argument has no card
    expect(await argsOf({ filterArguments: "*.profile" })).toContain('"profile": "[FILTERED]"');
  });

  it("hides keys a RegExp matches, and what a function says", async () => {
    const args = await argsOf({ filterArguments: [/^(email|brand)$/i, (path) => path.length === 1 && path[0] === 1] });
    expect(args).toContain('"email": "[FILTERED]"');
    expect(args).toContain('"brand": "[FILTERED]"');
    expect(args).toMatch(/},\s+"\[FILTERED\]"\s+\]/); // the second argument, the label
    expect(args).toContain('"password": "hunter2"'); // a list replaces the defaults
  });

  it("applies to job lists too", async () => {
    const text = main(await page("/ops/jobs?state=dead"));
    expect(text).not.toContain("hunter2");
    expect(main(await page("/ops/jobs?state=dead", { filterArguments: [] }))).toContain("hunter2");
  });

  it("applies to a malformed job's raw body, and hides a body it cannot read", async () => {
    const raw = await argsOf({}, malformed);
    expect(raw).toContain("not valid wire format");
    expect(raw).toContain('"password": "[FILTERED]"');
    expect(raw).toContain('"note": "kept"');
    expect(raw).not.toContain("in-raw-body");
    expect(await argsOf({ filterArguments: [] }, malformed)).toContain("in-raw-body");
  });

  it("never rebuilds arguments: the job class is not constructed, models are not loaded", async () => {
    const { jobId } = await WelcomeJob.set({ wait: "1h" }).performLater({ ...SIGNUP, email: "<img src=x onerror=alert(1)>" }, "html");
    const text = await page(`/ops/jobs/${jobId}`);
    expect(text).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(text).not.toContain("<img src=x");
  });
});
