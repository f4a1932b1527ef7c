// Faults with real worker processes (`errand work`, spawned as users run it) on SQS (the
// emulator the global setup starts, or SQS_ENDPOINT): kill -9 mid-run, a malformed message
// and an unknown job name, SIGTERM mid-run. Each case counts its jobs and the jobs lost,
// and asserts none were lost.
//
// This is a *.sqs.test.ts because it reads raw SQS facts: SQS keeps no job state, and the
// status store the worker writes to (LocalStatusStore, the default) lives in the worker
// process, gone when it is killed. So "lost" is judged on the queues themselves: the main
// queue's ApproximateNumberOfMessages / …NotVisible / …Delayed attributes (a message still
// there is late, not lost; one gone without its job having run is lost), and the
// dead-letter queue, read by receiving from it (`SqsAdapter.listDead`, in this process).
// Runs are counted from a file the jobs write to (fixtures/postgres-faults/jobs.mjs,
// re-exported by fixtures/sqs-faults/jobs.mjs): SQS deletes a finished job's message, so
// only that file says which jobs ran, and which ran twice.
//
// The counts are compared exactly: the emulator's attributes are exact at once. AWS's are
// approximate and lag by up to a minute, so against a real SQS_ENDPOINT these cases would
// need slack they do not have.
//
// Each case has a queue prefix of its own, so its SQS queues (`<prefix>default` and
// `<prefix>default-dead`) are touched by nothing else running at the same time; they are
// deleted after the file.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { DeleteQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { SqsAdapter, type SqsQueue } from "@errand/adapter-sqs";
import { configure, performAllLater } from "@errand/core";
import { waitFor } from "@errand/core/testing";
import { afterAll, afterEach, describe, expect, it } from "vitest";

import { SlowJob, TickJob } from "./fixtures/sqs-faults/jobs.mjs";
import { sqsEndpoint, sqsPrefix, testSqsClient } from "./support/sqs.js";
import { countRuns, printSummary, WorkerProcess } from "./support/worker-process.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CONFIG = join(ROOT, "test/fixtures/sqs-faults/errand.config.mjs");
const RUNS_DIR = mkdtempSync(join(tmpdir(), "errand-sqs-faults-"));
const QUEUE = "default";
/** The worker's lease in the fixture config, i.e. the visibility timeout its receives use. */
const VISIBILITY_MS = 2_000;

const endpoint = sqsEndpoint();
/** The test's own SQS client, shared by its adapters (`client`: closing them leaves it open). */
const sqs = testSqsClient(endpoint);
const cases: Case[] = [];

afterEach(() => WorkerProcess.killAll());

afterAll(async () => {
  // Drop every case's queues (an SQS_ENDPOINT may be shared, unlike the emulator of one run).
  for (const c of cases) {
    const queue = await c.queue().catch(() => undefined);
    if (!queue) continue;
    await Promise.all([queue.url, queue.deadUrl].map((url) => sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined)));
  }
  sqs.destroy();
  rmSync(RUNS_DIR, { recursive: true, force: true });
});

/** One case: its queue prefix, its runs file, its queues. */
class Case {
  readonly prefix = sqsPrefix("errand-faults");
  readonly runsFile = join(RUNS_DIR, `${this.prefix}runs`);
  /** Jobs enqueued so far: their arguments are 0…enqueued-1. */
  enqueued = 0;
  private resolved: Promise<SqsQueue> | undefined;

  constructor() {
    cases.push(this);
  }

  /** An adapter on the test's client, with the case's prefix (what `listDead` is read with). */
  adapter(): SqsAdapter {
    return new SqsAdapter({ client: sqs, queuePrefix: this.prefix });
  }

  /** The case's SQS queue and dead-letter queue (created, with the redrive policy, on first use). */
  queue(): Promise<SqsQueue> {
    this.resolved ??= (async () => {
      const adapter = this.adapter();
      try {
        return await adapter.queues.get(QUEUE);
      } finally {
        await adapter.close();
      }
    })();
    return this.resolved;
  }

  /** Enqueues `count` more jobs (the next arguments in order) through the adapter, from this process. */
  async enqueue(jobClass: typeof TickJob | typeof SlowJob, count: number): Promise<void> {
    const runtime = configure({ adapter: this.adapter() });
    try {
      const first = this.enqueued;
      const enqueued = await performAllLater(Array.from({ length: count }, (_, n) => new jobClass(first + n)));
      expect(enqueued.every((job) => job.enqueued && job.queue === QUEUE)).toBe(true);
      this.enqueued += count;
    } finally {
      await runtime.close();
    }
  }
}

/** An `errand work` process for one case: its endpoint, queue prefix and runs file. */
function startWorker(c: Case, concurrency: number): WorkerProcess {
  return new WorkerProcess(CONFIG, concurrency, {
    SQS_ENDPOINT_FOR_TEST: endpoint,
    ERRAND_TEST_QUEUE_PREFIX: c.prefix,
    ERRAND_TEST_RUNS: c.runsFile,
  });
}

/** Runs recorded by a case's jobs: counts, and the set of arguments that ran at least once. */
function runs(c: Case): ReturnType<typeof countRuns> & { args: Set<number> } {
  const lines = existsSync(c.runsFile) ? readFileSync(c.runsFile, "utf8").split("\n").filter(Boolean) : [];
  return { ...countRuns(c.runsFile), args: new Set(lines.map(Number)) };
}

/** What SQS says about a case's queues. */
interface Facts {
  /** Main queue: ApproximateNumberOfMessages (ready to receive). */
  visible: number;
  /** Main queue: ApproximateNumberOfMessagesNotVisible (received, not deleted, timeout not over). */
  hidden: number;
  /** Main queue: ApproximateNumberOfMessagesDelayed. */
  delayed: number;
  /** Dead-letter queue: every message in it, visible or not. */
  dead: number;
}

async function facts(c: Case): Promise<Facts> {
  const { url, deadUrl } = await c.queue();
  const read = async (queueUrl: string) => {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"],
      }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages ?? NaN),
      hidden: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? NaN),
      delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? NaN),
    };
  };
  const [main, dead] = await Promise.all([read(url), read(deadUrl)]);
  return { ...main, dead: dead.visible + dead.hidden + dead.delayed };
}

/** Messages still in the main queue, in any state. */
function remaining(f: Facts): number {
  return f.visible + f.hidden + f.delayed;
}

/** Waits until `done` holds for the case's queue facts and runs; the failure says where things stood. */
async function until(c: Case, worker: WorkerProcess, message: string, timeoutMs: number, done: (f: Facts, r: ReturnType<typeof runs>) => boolean): Promise<void> {
  try {
    await waitFor(async () => done(await facts(c), runs(c)), { timeoutMs, intervalMs: 25, message });
  } catch (error) {
    const r = runs(c);
    throw new Error(`${(error as Error).message}; queues: ${JSON.stringify(await facts(c))}; runs: ${r.total} total, ${r.distinct} distinct\n${worker.tail()}`);
  }
}

/** Jobs lost: enqueued, never run, and in no queue any more (every case first waits for its queues to empty). */
function lost(c: Case, r: ReturnType<typeof runs>, end: Facts): number {
  return c.enqueued - r.distinct - remaining(end);
}

/** The one-line summary of a case, to quote. */
function summary(name: string, fields: Record<string, number | string>): void {
  printSummary("sqs", name, fields);
}

describe("sqs faults with real worker processes", () => {
  it("kill -9 mid-run, 2,000 jobs: a second worker finishes them after the visibility timeout, none lost, only jobs the dead worker ran run twice", async () => {
    const jobs = 2_000;
    const c = new Case();
    const started = performance.now();
    await c.enqueue(TickJob, jobs);
    const enqueuedMs = performance.now() - started;
    expect(await facts(c)).toEqual({ visible: jobs, hidden: 0, delayed: 0, dead: 0 });

    const first = startWorker(c, 20);
    // Mid-run: a quarter of the messages deleted (their jobs done and settled).
    await until(c, first, "500 messages deleted", 30_000, (f) => jobs - remaining(f) >= 500);
    first.child.kill("SIGKILL");
    expect((await first.exit(5_000)).signal).toBe("SIGKILL");
    const killedAt = performance.now();
    // Received by the dead worker and not deleted (running, buffered, or done but not yet
    // settled): hidden until their visibility timeout, last extended at most ~0.7 s before
    // the kill, runs out. Nothing else receives from this queue, and the emulator moves an
    // expired message back only when someone receives, so this count is exactly those.
    const atKill = await facts(c);
    const ranAtKill = runs(c);
    expect(atKill.hidden, `the worker held no message when killed: nothing was stranded\n${first.tail()}`).toBeGreaterThan(0);
    expect(remaining(atKill), "the worker finished every job before the kill").toBeGreaterThan(atKill.hidden);
    expect(atKill.dead).toBe(0);
    // Nothing gone at the kill: every job has run or still has its message.
    expect(ranAtKill.distinct + remaining(atKill)).toBeGreaterThanOrEqual(jobs);

    const second = startWorker(c, 20);
    await until(c, second, `${jobs} jobs run and the queue empty`, 30_000, (f, r) => r.distinct === jobs && remaining(f) === 0);
    const drainedAt = performance.now();
    expect(second.child.exitCode, second.tail()).toBeNull();
    await second.stop();

    const end = await facts(c);
    const ran = runs(c);
    expect(end).toEqual({ visible: 0, hidden: 0, delayed: 0, dead: 0 });
    expect(ran.distinct).toBe(jobs);
    expect([...ran.args].filter((n) => !(Number.isInteger(n) && n >= 0 && n < jobs))).toEqual([]);
    // Only a job the dead worker had run (its message not deleted yet) may run twice…
    expect(ran.repeated.filter((n) => !ranAtKill.args.has(n))).toEqual([]);
    // …so no more than the messages it left hidden, and each of them twice at most: the
    // second worker renewed its own visibility timeouts, so none came back from it.
    expect(ran.repeated.length).toBeLessThanOrEqual(atKill.hidden);
    expect(ran.total - ran.distinct).toBe(ran.repeated.length);
    expect(lost(c, ran, end)).toBe(0);
    summary("kill -9", {
      jobs,
      succeeded: jobs - remaining(end) - end.dead,
      lost: lost(c, ran, end),
      "deleted at kill": jobs - remaining(atKill),
      "hidden at kill (stranded)": atKill.hidden,
      "ran at kill": ranAtKill.distinct,
      "ran twice (runs recorded)": ran.total - jobs,
      "enqueue ms": Math.round(enqueuedMs),
      "kill to drained ms": Math.round(drainedAt - killedAt),
      "total ms": Math.round(drainedAt - started),
    });
  }, 45_000);

  it("a message whose body is not JSON and one naming an unregistered job end in the dead-letter queue with the reason; 100 good jobs succeed, the worker goes on", async () => {
    const jobs = 100;
    const c = new Case();
    const started = performance.now();
    await c.enqueue(TickJob, jobs / 2);
    // Two messages sent with the raw SQS API, bypassing the adapter's encoding: one body not
    // JSON, one a valid v1 payload of a job no worker knows.
    const { url } = await c.queue();
    const malformedBody = "{this is not json";
    const now = new Date().toISOString();
    const ghost = { v: 1, job: "GhostJob", id: `${c.prefix}ghost`, queue: QUEUE, priority: 0, args: { json: [] }, executions: 0, enqueuedAt: now, runAt: now };
    const malformed = await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: malformedBody }));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(ghost) }));
    // A body that cannot be read has no job id of its own: it goes by its SQS message id.
    const malformedId = malformed.MessageId!;

    const worker = startWorker(c, 5);
    await until(c, worker, `${jobs / 2} jobs run, 2 dead, the queue empty`, 15_000, (f, r) => r.distinct === jobs / 2 && f.dead === 2 && remaining(f) === 0);
    // The worker goes on after the bad messages: the second half, enqueued now, runs too.
    await c.enqueue(TickJob, jobs / 2);
    await until(c, worker, `${jobs} jobs run, the queue empty`, 15_000, (f, r) => r.distinct === jobs && remaining(f) === 0);
    const drainedMs = performance.now() - started;
    expect(worker.child.exitCode, worker.tail()).toBeNull();
    await worker.stop();

    const end = await facts(c);
    expect(end).toEqual({ visible: 0, hidden: 0, delayed: 0, dead: 2 });
    // The dead set as an operator sees it, read from the dead-letter queue by this process
    // (the worker that buried them is gone; SQS itself holds the reasons, in attributes).
    const adapter = c.adapter();
    const dead = await adapter.listDead({ queue: QUEUE });
    await adapter.close();
    expect(dead).toHaveLength(2);
    const ghostDead = dead.find((job) => job.id === ghost.id);
    const malformedDead = dead.find((job) => job.body === malformedBody);
    expect(ghostDead, JSON.stringify(dead)).toMatchObject({ queue: QUEUE, error: { code: "ERR_UNKNOWN_JOB", message: expect.stringMatching(/^unknown job class "GhostJob"/) } });
    expect(JSON.parse(ghostDead!.body), "the unknown job's payload is kept as sent").toEqual(ghost);
    expect(malformedDead, JSON.stringify(dead)).toMatchObject({ queue: QUEUE, error: { code: "ERR_MALFORMED_PAYLOAD", message: expect.stringMatching(/^malformed payload: not JSON/) } });
    // Listing receives from the dead-letter queue but keeps nothing: both are still there.
    const afterList = await facts(c);
    expect(afterList.dead).toBe(2);
    const ran = runs(c);
    expect({ total: ran.total, distinct: ran.distinct }).toEqual({ total: jobs, distinct: jobs });
    expect(lost(c, ran, end)).toBe(0);
    summary("bad messages", {
      jobs,
      succeeded: jobs - remaining(end),
      lost: lost(c, ran, end),
      dead: end.dead,
      "dead reasons": dead.map((job) => JSON.stringify(job.error.message.split(" (")[0])).join(" | "),
      "total ms": Math.round(drainedMs),
    });
    // The unreadable message is dead under the id the worker reported it by (`job:dead`'s
    // providerJobId, the "? <id> dead: …" line of `errand work`): its SQS message id when it
    // was sent, the only id it ever had. `errand dead retry/purge <id>` select by this id.
    expect(worker.stdout, worker.tail()).toContain(`? ${malformedId} dead: MalformedPayloadError`);
    expect(
      malformedDead!.id,
      "adapter bug: the dead-letter copy of a message whose body has no job id is listed under the copy's new SQS message id, " +
        "not the id the message had (and the worker logged it dead under): see deadJob()/deadMessage() in packages/adapter-sqs/src/dead-letter.ts",
    ).toBe(malformedId);
  }, 40_000);

  it("SIGTERM mid-run: running jobs finish, received-but-not-started messages are visible again at once, a second worker drains them, none lost", async () => {
    const jobs = 200;
    const c = new Case();
    const started = performance.now();
    await c.enqueue(SlowJob, jobs);

    const first = startWorker(c, 10);
    await until(c, first, "30 jobs run", 30_000, (_, r) => r.distinct >= 30);
    await first.stop();
    const exitedAt = performance.now();
    // Read at once: well inside the 2 s visibility timeout, so a message counted visible was
    // handed back by the worker (ChangeMessageVisibility 0), not let go by SQS.
    const afterStop = await facts(c);
    const factsMs = performance.now() - exitedAt;
    const ranAtStop = runs(c);
    const signalled = first.stdout.match(/SIGTERM: stopping; (\d+) running job/);
    const stopped = first.stdout.match(/stopped: (\d+) job\(s\) processed, (\d+) released back/);
    expect(signalled, first.tail()).not.toBeNull();
    expect(stopped, first.tail()).not.toBeNull();
    const [runningAtSignal, processed, released] = [Number(signalled![1]), Number(stopped![1]), Number(stopped![2])];

    expect(factsMs, "the queue was read too late to tell a hand-back from an expired timeout").toBeLessThan(VISIBILITY_MS / 2);
    // Jobs were running at the signal, and messages waited in the worker's buffer: otherwise
    // this case proves nothing.
    expect(runningAtSignal, first.tail()).toBeGreaterThan(0);
    expect(released, first.tail()).toBeGreaterThan(0);
    // Running jobs finished within the grace: every job the worker processed ran once and
    // its message was deleted; none was cut short and handed back.
    expect(processed).toBe(ranAtStop.distinct);
    expect(ranAtStop.total).toBe(ranAtStop.distinct);
    // Nothing left hidden: the received-but-not-started messages are visible again now,
    // not when their visibility timeout runs out.
    expect(afterStop, first.tail()).toEqual({ visible: jobs - ranAtStop.distinct, hidden: 0, delayed: 0, dead: 0 });

    const second = startWorker(c, 10);
    await until(c, second, `${jobs} jobs run and the queue empty`, 30_000, (f, r) => r.distinct === jobs && remaining(f) === 0);
    const drainedMs = performance.now() - started;
    await second.stop();

    const end = await facts(c);
    const ran = runs(c);
    expect(end).toEqual({ visible: 0, hidden: 0, delayed: 0, dead: 0 });
    expect(ran.distinct).toBe(jobs);
    // Running jobs finished and the rest never started: nothing ran twice.
    expect(ran.total).toBe(jobs);
    expect(lost(c, ran, end)).toBe(0);
    summary("SIGTERM", {
      jobs,
      succeeded: jobs - remaining(end) - end.dead,
      lost: lost(c, ran, end),
      "running at SIGTERM": runningAtSignal,
      "worker said processed/released": `${processed}/${released}`,
      "visible/hidden right after exit": `${afterStop.visible}/${afterStop.hidden}`,
      "read after exit ms": Math.round(factsMs),
      "ran twice (runs recorded)": ran.total - jobs,
      "total ms": Math.round(drainedMs),
    });
  }, 40_000);
});
