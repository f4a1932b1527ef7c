import { describe, expect, it } from "vitest";

import { RunningJobs, type RunningJob } from "../src/worker/slots.js";

const job = (id: string): RunningJob => ({ reservation: { providerJobId: id, body: "{}" }, controller: undefined, abandoned: false, slot: -1, payload: undefined, startedAt: 0 });
const ids = (running: RunningJobs) => running.values().map((entry) => entry.reservation.providerJobId).sort();

describe("a worker's running jobs", () => {
  it("removes any job, first, middle or last, keeping the others, and ignores a second removal", () => {
    const running = new RunningJobs();
    const [a, b, c, d] = ["a", "b", "c", "d"].map(job) as [RunningJob, RunningJob, RunningJob, RunningJob];
    for (const entry of [a, b, c, d]) running.add(entry);
    expect(running.size).toBe(4);
    running.delete(b);
    expect(ids(running)).toEqual(["a", "c", "d"]);
    running.delete(a);
    running.delete(a);
    expect(ids(running)).toEqual(["c", "d"]);
    running.delete(d);
    expect(ids(running)).toEqual(["c"]);
    running.add(a);
    running.delete(c);
    expect(ids(running)).toEqual(["a"]);
    expect([a.slot, b.slot, c.slot, d.slot]).toEqual([0, -1, -1, -1]);
    running.delete(a);
    expect(running.size).toBe(0);
  });

  it("gives a copy to iterate while jobs finish", () => {
    const running = new RunningJobs();
    const [a, b] = [job("a"), job("b")];
    running.add(a);
    running.add(b);
    const seen: string[] = [];
    for (const entry of running.values()) {
      running.delete(entry);
      seen.push(entry.reservation.providerJobId);
    }
    expect(seen.sort()).toEqual(["a", "b"]);
    expect(running.size).toBe(0);
  });
});
