/**
 * Runs the README's examples as users run them (`npm run demo`): built by `tsc -b`, in
 * their own Node process, and checks what they print. The process must also exit by
 * itself: a handle left open (a server, a worker's timer) would hang users' scripts.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { beforeAll, describe, expect, it } from "vitest";

import { runNode, type ChildResult } from "./support/run-node.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function show(result: ChildResult): string {
  return `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

// examples/ is built by `npm test` (tsc -b) before any test runs.
describe("examples/report-demo", () => {
  let run: ChildResult;
  let lines: string[];

  beforeAll(async () => {
    run = await runNode([join("examples", "dist", "report-demo", "main.js")], { cwd: root, deadlineMs: 20_000 });
    lines = run.stdout.split("\n");
  }, 25_000);

  it("exits 0 by itself, well before its deadline", () => {
    expect(run.timedOut, `the demo was still running after 20 s (an open handle?)\n${show(run)}`).toBe(false);
    expect(run.code, show(run)).toBe(0);
    expect(run.stderr).toBe("");
    expect(lines).toContain("closed");
  });

  it("answers POST /reports at once, with 202 and a job id", () => {
    const match = /^POST \/reports answered (\d+) in ([\d.]+) ms: job ([0-9a-f-]{36}) \((\w+)\)$/m.exec(run.stdout);
    expect(match, show(run)).not.toBeNull();
    expect(match![1]).toBe("202");
    // The report takes 10 pages × 80 ms; the request must not wait for any of it: the state
    // the server read as it answered is queued, or running at most (no timing asserted:
    // the milliseconds printed vary with the machine's load, 148–297 ms on a busy CI box).
    expect(["queued", "running"]).toContain(match![4]);
    expect(run.stdout).toContain(`status URL: http://127.0.0.1:`);
    expect(run.stdout).toContain(`/reports/${match![3]}`);
  });

  it("prints progress lines in order, ending at 10/10", () => {
    const pages = lines.flatMap((line) => {
      const match = /^progress +(\d+)% fetched (\d+)\/10 pages$/.exec(line);
      return match ? [{ percent: Number(match[1]), page: Number(match[2]) }] : [];
    });
    expect(pages.length, show(run)).toBeGreaterThanOrEqual(2);
    for (let index = 1; index < pages.length; index++) expect(pages[index]!.page).toBeGreaterThan(pages[index - 1]!.page);
    for (const { percent, page } of pages) expect(percent).toBe(page * 10);
    expect(pages.at(-1)!.page).toBe(10);
  });

  it("prints the result read back by job id, after the work ran in the background", () => {
    const match = /^succeeded after (\d+) ms of work in the background: result (.+)$/m.exec(run.stdout);
    expect(match, show(run)).not.toBeNull();
    expect(Number(match![1])).toBeGreaterThanOrEqual(10 * 80);
    // The user went in as a model reference and was loaded again by findMany: its name is in the report.
    expect(JSON.parse(match![2]!)).toEqual({ user: "Ada Lovelace", month: "2025-10", pages: 10, invoices: 45, totalCents: 58690 });
  });

  it("sends the welcome mail in a job of its own, through nodemailer's JSON transport", () => {
    // Printed by WelcomeMailer's afterDeliver: the mail was built from the user loaded again by reference.
    expect(lines.filter((line) => line.startsWith("mail sent to")), show(run)).toEqual(['mail sent to ada@example.com: "Welcome to Reports"']);
  });
});
