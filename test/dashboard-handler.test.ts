// @errand/dashboard without a browser (issue 15): its options are checked (unknown ones
// named), it is closed by default, `authorize` guards every route, `basicAuth` challenges,
// every POST passes read-only, the CSRF token and the origin check (each refusal a 403 that
// says why), and pages carry their security headers and escape what they show. The async
// adapter is the backend; a recurring task gives an action that succeeds.
import { configure, ConfigError, Job, type Runtime } from "@errand/core";
import { basicAuth, dashboard, type Dashboard, type DashboardOptions } from "@errand/dashboard";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { get, ORIGIN, Session } from "./support/dashboard.js";

class TidyJob extends Job<[label: string]> {
  static override jobName = "DashboardTidyJob";
  async perform(_label: string) {}
}

let runtime: Runtime;
beforeAll(async () => {
  runtime = configure({ adapter: "async", jobs: [TidyJob], recurring: { tidy: { job: TidyJob, every: "1h", args: ["hourly"] } } });
  await runtime.start();
  await TidyJob.set({ queue: "<script>alert(1)</script>", wait: "1h" }).performLater("escaped");
});
afterAll(() => runtime.close());

const open = (options: Partial<DashboardOptions> = {}) => dashboard({ basePath: "/errand", authorize: () => true, ...options });

describe("dashboard options", () => {
  it("refuses a dashboard without authorize, naming the fix", () => {
    expect(() => dashboard({ basePath: "/errand" } as DashboardOptions)).toThrow(ConfigError);
    expect(() => dashboard({ basePath: "/errand" } as DashboardOptions)).toThrow(/dashboard needs authorize.*basicAuth\(\{ username, password \}\).*authorize: \(\) => true/);
    expect(() => dashboard(undefined as unknown as DashboardOptions)).toThrow(/dashboard needs options/);
  });

  it("names an unknown option, and the one meant", () => {
    expect(() => open({ readonly: true } as Partial<DashboardOptions>)).toThrow(/unknown option "readonly" in the dashboard options; did you mean "readOnly"\?/);
    expect(() => open({ colour: "blue" } as Partial<DashboardOptions>)).toThrow(/unknown option "colour"/);
  });

  it("names a value of the wrong kind", () => {
    expect(() => open({ readOnly: "yes" as unknown as boolean })).toThrow(/option "readOnly" in the dashboard options must be true or false/);
    expect(() => open({ authorize: true as unknown as () => boolean })).toThrow(/option "authorize" .* must be a function/);
    expect(() => open({ basePath: "errand" })).toThrow(/basePath must be a path starting with "\/"/);
    expect(() => open({ pageSize: 0 })).toThrow(/option "pageSize" .* must be a positive integer/);
    expect(() => open({ pageSize: 501 })).toThrow(/pageSize" in the dashboard options must be at most 500/);
    expect(() => open({ liveInterval: "100ms" as never })).toThrow(/liveInterval/);
    expect(() => open({ liveInterval: 100 })).toThrow(/liveInterval" in the dashboard options must be at least 500 ms/);
    expect(() => open({ trustedOrigins: [""] })).toThrow(/trustedOrigins\[0\]/);
    expect(() => open({ filterArguments: [42 as unknown as string] })).toThrow(/filterArguments/);
    expect(() => open({ filterArguments: ["ok", ""] })).toThrow(/filterArguments\[1\] must be a key-name fragment/);
    expect(() => open({ filterArguments: "card..number" })).toThrow(/filterArguments\[0\]: the path "card..number" has an empty segment/);
  });

  it("mounts at the root without a basePath", async () => {
    const ui = dashboard({ authorize: () => true });
    expect(ui.basePath).toBe("");
    const response = await get(ui, "/");
    expect(response.status).toBe(200);
    expect(response.headers.get("set-cookie")).toContain("; Path=/;");
    const text = await response.text();
    expect(text).toContain('<a href="/jobs">Jobs</a>');
    expect(text).toMatch(/<link rel="stylesheet" href="\/assets\/dashboard\.[0-9a-f]{10}\.css">/);
    expect((await get(ui, "/jobs?state=dead")).status).toBe(200);
  });

  it("says which routes are its own", () => {
    const ui = open();
    expect(ui.basePath).toBe("/errand");
    for (const path of ["/errand", "/errand/", "/errand/jobs", "/errand/jobs/abc", "/errand/workers", "/errand/live/queues", "/errand/status/abc/events"]) expect(ui.handles(path), path).toBe(true);
    for (const path of ["/", "/errands", "/other/errand", "/errand/jobs/a/b", "/errand/unknown"]) expect(ui.handles(path), path).toBe(false);
  });
});

describe("dashboard access", () => {
  const routes = ["/errand/", "/errand/jobs?state=dead", "/errand/workers", "/errand/recurring", "/errand/live/queues", "/errand/status/0190a6c4-0000-7000-8000-000000000000"];

  it("refuses every route, assets and streams included, when authorize says no", async () => {
    const seen: string[] = [];
    const ui = open({ authorize: (request) => (seen.push(new URL(request.url).pathname), false) });
    const page = await (await get(open(), "/errand/")).text();
    const asset = /href="(\/errand\/assets\/[^"]+)"/.exec(page)![1]!;
    for (const path of [...routes, asset]) {
      const response = await get(ui, path);
      expect(response.status, path).toBe(403);
      expect(await response.text()).toBe("Forbidden: this dashboard's authorize rule refused the request");
    }
    const post = await new Session(ui).post("/errand/actions/queues", { action: "pause", queue: "q" });
    expect(post.status).toBe(403);
    expect(seen).toHaveLength(routes.length + 2);
  });

  it("sends the Response authorize returns, and waits for an async one", async () => {
    const redirect = open({ authorize: async () => new Response(null, { status: 302, headers: { location: "/login" } }) });
    const response = await get(redirect, "/errand/");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe("/login");
    const yes = open({ authorize: async () => true });
    expect((await get(yes, "/errand/")).status).toBe(200);
  });

  it("basicAuth: a challenge without credentials or with wrong ones, the page with the right ones", async () => {
    const ui = open({ authorize: basicAuth({ username: "ops", password: "s3cret: with colon" }) });
    const basic = (text: string) => ({ authorization: `Basic ${Buffer.from(text).toString("base64")}` });
    for (const headers of [{}, basic("ops:wrong"), basic("ops"), basic("opsx:s3cret: with colon"), { authorization: "Bearer abc" }]) {
      const response = await get(ui, "/errand/", headers);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toBe('Basic realm="Errand", charset="UTF-8"');
    }
    expect((await get(ui, "/errand/", basic("ops:s3cret: with colon"))).status).toBe(200);
  });

  it("basicAuth checks its options", () => {
    expect(() => basicAuth({ username: "", password: "x" })).toThrow(/username must be a non-empty string/);
    expect(() => basicAuth({ username: "a:b", password: "x" })).toThrow(/must not contain ':'/);
    expect(() => basicAuth({ username: "a", password: "x", user: "b" } as never)).toThrow(/unknown option "user"/);
    expect(() => basicAuth({ username: "a", password: "x", realm: 'a"b' })).toThrow(/realm/);
  });
});

describe("dashboard pages", () => {
  it("sets the CSRF cookie HttpOnly, SameSite=Strict, scoped to the base path, Secure over https", async () => {
    const ui = open();
    const plain = (await get(ui, "/errand/")).headers.get("set-cookie")!;
    expect(plain).toMatch(/^errand_csrf=[A-Za-z0-9_-]{43}; Path=\/errand; HttpOnly; SameSite=Strict$/);
    const secure = (await ui(new Request("https://dashboard.test/errand/"))).headers.get("set-cookie")!;
    expect(secure).toMatch(/; Secure$/);
    const session = await new Session(ui).start("/errand/");
    expect((await session.get("/errand/")).response.headers.get("set-cookie")).toBeNull(); // kept, not renewed
  });

  it("carries a strict Content-Security-Policy and refuses to be framed", async () => {
    const response = await get(open(), "/errand/");
    expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("cache-control")).toBe("no-store");
  });

  it("escapes what it shows: a queue named <script> is text", async () => {
    const text = await (await get(open(), "/errand/")).text();
    expect(text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(text).not.toContain("<script>alert(1)");
  });

  it("answers 405 for the wrong method and 404 for unknown paths", async () => {
    const ui = open();
    expect((await get(ui, "/errand/actions/jobs")).status).toBe(405);
    expect((await ui(new Request(`${ORIGIN}/errand/jobs`, { method: "POST" }))).status).toBe(405);
    expect((await get(ui, "/errand/nothing")).status).toBe(404);
    expect((await get(ui, "/errand/jobs?state=lost")).status).toBe(400);
  });
});

describe("dashboard actions: CSRF", () => {
  let ui: Dashboard;
  let session: Session;
  beforeAll(async () => {
    ui = open();
    session = await new Session(ui).start("/errand/recurring");
  });
  const run = { name: "tidy", return: "/errand/recurring" };
  const refusal = async (response: Response) => {
    expect(response.status).toBe(403);
    return /<p class="error" role="alert">(.*?)<\/p>/.exec(await response.text())?.[1];
  };

  it("acts with the page's token, cookie and origin", async () => {
    const response = await session.post("/errand/actions/recurring", run);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toMatch(/^\/errand\/recurring\?notice=enqueued&subject=tidy&jobid=[0-9a-f-]{36}$/);
  });

  it("refuses a form without its token, or with another browser's", async () => {
    expect(await refusal(await session.post("/errand/actions/recurring", run, { token: null }))).toMatch(/the form carried no CSRF token/);
    const other = await new Session(ui).start("/errand/");
    expect(await refusal(await session.post("/errand/actions/recurring", run, { token: other.token }))).toMatch(/does not match this browser&#39;s/);
  });

  it("refuses a form whose browser has no CSRF cookie", async () => {
    expect(await refusal(await session.post("/errand/actions/recurring", run, { cookie: null }))).toMatch(/no CSRF cookie/);
  });

  it("refuses a cross-site POST even with a valid token", async () => {
    expect(await refusal(await session.post("/errand/actions/recurring", run, { headers: { "sec-fetch-site": "cross-site" } }))).toMatch(/Sec-Fetch-Site: cross-site/);
    expect(await refusal(await session.post("/errand/actions/recurring", run, { headers: { "sec-fetch-site": "same-site" } }))).toMatch(/Sec-Fetch-Site: same-site/);
    expect(await refusal(await session.post("/errand/actions/recurring", run, { headers: { "sec-fetch-site": "", origin: "https://evil.example" } }))).toMatch(/Origin: https:\/\/evil.example/);
    expect(await refusal(await session.post("/errand/actions/recurring", run, { headers: { "sec-fetch-site": "", origin: "" } }))).toMatch(/without an Origin header/);
  });

  it("accepts an origin named in trustedOrigins (a proxy's)", async () => {
    const proxied = open({ trustedOrigins: ["https://ops.example.com"] });
    const behind = await new Session(proxied).start("/errand/");
    const headers = { "sec-fetch-site": "", origin: "https://ops.example.com" };
    expect((await behind.post("/errand/actions/recurring", run, { headers })).status).toBe(303);
  });

  it("refuses a body that is not a form", async () => {
    const response = await session.post("/errand/actions/recurring", run, { headers: { "content-type": "application/json" } });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("actions take a form (application/x-www-form-urlencoded)");
  });
});

describe("dashboard: readOnly", () => {
  it("shows no action and refuses every POST, even with a valid token", async () => {
    const ui = open({ readOnly: true });
    const session = await new Session(ui).start("/errand/");
    for (const path of ["/errand/", "/errand/recurring", "/errand/jobs?state=scheduled"]) {
      const { text } = await session.get(path);
      expect(text, path).not.toContain('method="post"');
      expect(text).toContain("read-only");
    }
    for (const [path, fields] of [
      ["/errand/actions/recurring", { name: "tidy" }],
      ["/errand/actions/queues", { action: "pause", queue: "q" }],
      ["/errand/actions/jobs", { action: "cancel", state: "queued", ids: "x" }],
    ] as const) {
      const response = await session.post(path, fields);
      expect(response.status, path).toBe(403);
      expect(await response.text()).toContain("This dashboard is read-only: it takes no actions.");
    }
  });
});
