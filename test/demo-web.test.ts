// The web example as users start it, so its README stays true: `npm run demo:web`'s
// program (examples/dist/web/main.js, built by `tsc -b`) on the async default, and the
// Procfile's two lines, web and `errand work`, as separate processes on Redis. Each is
// driven over HTTP: the pages, POST /feeds, the job's status streamed to its end.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { afterEach, describe, expect, it, onTestFinished } from "vitest";

import { waitFor } from "@errand/core/testing";

import { dropPrefixes, redisUrl } from "./support/redis.js";
import { statusEvents } from "./support/sse.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WEB = join(ROOT, "examples", "web");
const SECRET = "demo-web-test-secret-long-enough-0123456789";

/**
 * A command line run as Procfile runners run it (`sh -c`, exec'ing the command so signals
 * reach it), in its own process group, its output collected.
 */
class Program {
  stdout = "";
  stderr = "";
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  static readonly running = new Set<Program>();

  constructor(
    readonly command: string,
    cwd: string,
    env: Record<string, string>,
  ) {
    const inherited = { ...process.env };
    delete inherited.ERRAND_URL;
    delete inherited.ERRAND_ENV;
    delete inherited.NODE_ENV; // vitest sets "test"; the demo runs as a user runs it
    this.child = spawn("sh", ["-c", `exec ${command}`], { cwd, env: { ...inherited, ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code)));
    Program.running.add(this);
    void this.exited.then(() => Program.running.delete(this));
  }

  /** The first capture group of the first stdout line matching `pattern`, once there is one. */
  async match(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    try {
      return await waitFor(() => pattern.exec(this.stdout)?.[1], { timeoutMs, message: `${pattern} in the output of ${this.command}` });
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${this.output()}`);
    }
  }

  output(): string {
    return `--- ${this.command} stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`;
  }

  /** Sends `signal` to the program. */
  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** Kills the program's whole process group. */
  kill(): void {
    if (this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null) process.kill(-this.child.pid, "SIGKILL");
  }
}

afterEach(() => {
  for (const program of Program.running) program.kill();
});

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

/** POSTs a feed URL (the demo's own slow feed, at full speed) and streams the job's status to its end. */
async function fetchFeedThroughTheApp(base: string, feedUrl: string): Promise<{ states: unknown[]; final: Record<string, unknown> }> {
  const answer = await fetch(`${base}/feeds`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ url: `${feedUrl}?ms=0` }) });
  expect(answer.status).toBe(202);
  const { jobId, statusUrl } = (await json(answer)) as { jobId: string; statusUrl: string };
  expect(statusUrl).toMatch(new RegExp(`^/jobs/${jobId}\\?token=v1\\.`));
  const [path, query] = statusUrl.split("?");
  const stream = await fetch(`${base}${path}/events?${query}`);
  expect(stream.status).toBe(200);
  const states: unknown[] = [];
  let final: Record<string, unknown> = {};
  for await (const { status } of statusEvents(stream.body!)) {
    states.push(status.state);
    final = status;
  }
  return { states, final };
}

describe("npm run demo:web", () => {
  it("runs the web example's main module after installing and building", () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(scripts["demo:web"]).toBe("npm install --no-audit --no-fund && tsc -b && node examples/dist/web/main.js");
  });

  it("serves the pages and the client, runs a feed job in process, and stops on SIGTERM", async () => {
    const demo = new Program("node examples/dist/web/main.js", ROOT, { PORT: "0", FEED_PORT: "0" });
    const base = await demo.match(/^Errand web demo on the async adapter: (http:\/\/127\.0\.0\.1:\d+)\/ \(and \/report\)$/m);
    const feedUrl = await demo.match(/^slow feeds: (\S+\/feed\.rss) and \S+\/feed\.atom$/m);

    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`value="${feedUrl}"`);
    expect(html).toContain('"@errand/client": "/vendor/errand-client/index.js"');
    expect((await fetch(`${base}/report`)).status).toBe(200);
    const client = await fetch(`${base}/vendor/errand-client/index.js`);
    expect(client.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await client.text()).toContain("watchJob");
    expect((await fetch(`${base}/vendor/errand-client/../../package.json`)).status).toBe(404);

    const refused = await fetch(`${base}/feeds`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"url":"nope"}' });
    expect(refused.status).toBe(400);
    expect(await json(refused)).toEqual({ error: '"nope" is not a URL' });

    const { states, final } = await fetchFeedThroughTheApp(base, feedUrl);
    expect(states.at(-1), demo.output()).toBe("succeeded");
    expect(final.result).toMatchObject({ title: "The Slow Errand Times (RSS)" });
    expect((final.result as { items: unknown[] }).items).toHaveLength(24);

    demo.signal("SIGTERM");
    expect(await demo.exited, demo.output()).toBe(0);
    expect(demo.stdout).toMatch(/\nclosed\n$/);
    expect(demo.stderr).toBe("");
  });
});

describe("examples/web/Procfile", () => {
  it("runs the web process and an errand work process on Redis, the job in the worker", async () => {
    // What Procfile runners read: `name: command` lines; the rest are comments.
    const lines: Record<string, string> = {};
    for (const line of readFileSync(join(WEB, "Procfile"), "utf8").split("\n")) {
      const match = /^([A-Za-z0-9_-]+):\s*(.+)$/.exec(line);
      if (match) lines[match[1]!] = match[2]!;
    }
    expect(Object.keys(lines)).toEqual(["web", "worker"]);
    // The example uses the adapter's default key prefix, "errand": in a database of its own
    // (index 9), so nothing else on the test Redis shares its keys, and they are dropped after.
    const redis = new URL(redisUrl());
    redis.pathname = "/9";
    onTestFinished(() => dropPrefixes(redis.href, ["errand"]));
    const env = { ERRAND_URL: redis.href, ERRAND_SECRET: SECRET, PORT: "0", FEED_PORT: "0" };
    const web = new Program(lines.web!, WEB, env);
    const worker = new Program(lines.worker!, WEB, env);
    const base = await web.match(/^Errand web demo on the redis adapter: (http:\/\/127\.0\.0\.1:\d+)\//m);
    await web.match(/^(jobs run in `errand work` processes)/m);
    const feedUrl = await web.match(/^slow feeds: (\S+\/feed\.rss) /m);
    await worker.match(/ worker (\S+) started: adapter redis, queues feeds reports, concurrency 10$/m);

    const { states, final } = await fetchFeedThroughTheApp(base, feedUrl);
    expect(states.at(-1), `${web.output()}\n${worker.output()}`).toBe("succeeded");
    expect((final.result as { items: unknown[] }).items).toHaveLength(24);
    // The worker process ran it: its log has the job's line.
    await worker.match(new RegExp(`(FetchFeedJob ${String(final.id)} completed)`));

    web.signal("SIGTERM");
    worker.signal("SIGTERM");
    expect(await web.exited, web.output()).toBe(0);
    expect(await worker.exited, worker.output()).toBe(0);
  });
});
