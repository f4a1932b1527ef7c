/**
 * The story Errand exists for, in one process: a web request that must answer fast
 * hands its slow work to a job, and the browser follows the job's progress by id.
 *
 * Runs on the embedded async adapter: jobs run on a pool inside this process, no server
 * to install. The first report also sends the user a welcome mail, in a job of its own,
 * through nodemailer's JSON transport (it builds the message and sends it nowhere). Run it
 * with `npm run demo`.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";

import { configure, isFinished, MailDeliveryJob, type JobState } from "@errand/core";

import { WelcomeMailer } from "./report-job.js";
import { createApp } from "./server.js";

// Boot: the configuration (in a real app, the object errand.config.ts exports).
const runtime = configure({
  app: "report-demo",
  adapter: "async",
  worker: { concurrency: 5 },
  // Workers deliver mails of registered mailers only; a worker process would read this too.
  mailers: [WelcomeMailer],
  mail: { transport: { jsonTransport: true } },
});
// Start the in-process pool with the app, not at the first request.
await runtime.start();

const server = createApp();
server.listen(0, "127.0.0.1");
await once(server, "listening");
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
console.log(`app listening on ${base}`);

// --- the client (a browser, say) ---

// Warm up: the first fetch() in a process loads its HTTP client, which is not what we time.
await (await fetch(`${base}/health`)).text();

// The async adapter keeps jobs in memory and close() drops those not yet run: the demo
// waits for the welcome mail's job to end (a real app's worker would deliver it later).
const mailDone = new Promise<void>((resolve) => {
  const done = ({ payload }: { payload?: { job: string } }) => payload?.job === MailDeliveryJob.jobName && resolve();
  for (const event of ["job:complete", "job:discard", "job:dead"] as const) runtime.events.on(event, done);
});

const started = performance.now();
const response = await fetch(`${base}/reports`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ userId: 1, month: "2025-10-01" }),
});
const { jobId, state, status: statusUrl } = (await response.json()) as { jobId: string; state: string; status: string };
const elapsedMs = performance.now() - started;
console.log(`POST /reports answered ${response.status} in ${elapsedMs.toFixed(1)} ms: job ${jobId} (${state})`);
console.log(`status URL: ${statusUrl}`);

interface StatusJSON {
  state: JobState;
  progress: { fraction: number; message?: string } | null;
  result: unknown;
  error: { message: string } | null;
  startedAt: string | null;
  finishedAt: string | null;
}

// Poll the status URL (a browser could also subscribe to the status stream instead).
let lastMessage: string | undefined;
let status: StatusJSON;
for (;;) {
  status = (await (await fetch(statusUrl)).json()) as StatusJSON;
  const message = status.progress?.message;
  if (message !== undefined && message !== lastMessage) {
    lastMessage = message;
    console.log(`progress ${String(Math.round(status.progress!.fraction * 100)).padStart(3)}% ${message}`);
  }
  if (isFinished(status.state)) break;
  await delay(20);
}

if (status.state === "succeeded") {
  const ranMs = Date.parse(status.finishedAt!) - Date.parse(status.startedAt!);
  console.log(`${status.state} after ${ranMs} ms of work in the background: result ${JSON.stringify(status.result)}`);
} else console.log(`${status.state}: ${status.error?.message ?? "no error recorded"}`);

await mailDone;

// --- shutdown: nothing left running, so the process exits by itself ---
server.close();
await runtime.close();
console.log("closed");
if (status.state !== "succeeded") process.exitCode = 1;
