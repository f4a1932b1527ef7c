/**
 * What the four mounting examples share: the job they enqueue, and the `main` each runs
 * when started on its own (`node examples/dist/mount/express.js`). Each example is one small
 * file that mounts Errand's status routes in its framework; everything else is here.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";

import { configure, Job, statusToken } from "@errand/core";

/** A job slow enough to watch: three steps of 400 ms, each reported as progress. */
export class HelloJob extends Job<[name: string], string> {
  static override jobName = "HelloJob";
  async perform(name: string): Promise<string> {
    for (let step = 1; step <= 3; step++) {
      await delay(400, undefined, { signal: this.signal });
      this.progress(step / 3, `step ${step}/3`);
    }
    return `hello, ${name}`;
  }
}

/** A running example server. */
export interface MountedApp {
  /** Base URL, such as `http://127.0.0.1:3000`. */
  url: string;
  /** Stops the server, ending open status streams. */
  close(): Promise<void>;
}

/** Options every example's `start` takes. */
export interface StartOptions {
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Secret status tokens are signed with. */
  secret: string;
}

/** Enqueues a `HelloJob` and answers what `POST /hello` answers: the job id and its status URL. */
export async function enqueueHello(secret: string): Promise<{ jobId: string; statusUrl: string }> {
  const { jobId } = await HelloJob.performLater("world");
  return { jobId, statusUrl: `/jobs/${jobId}?token=${statusToken(jobId, { secret, expiresIn: "1h" })}` };
}

/**
 * Runs an example on its own: the async adapter, the server on `PORT` (default 3000), one
 * job enqueued and the commands to watch it printed; Ctrl-C stops it.
 */
export async function runExample(framework: string, start: (options: StartOptions) => Promise<MountedApp>): Promise<void> {
  const runtime = configure({ adapter: "async", jobs: [HelloJob] });
  await runtime.start();
  const secret = process.env.ERRAND_SECRET || randomBytes(32).toString("base64url");
  const app = await start({ port: Number(process.env.PORT ?? 3000), secret });
  const { statusUrl } = await enqueueHello(secret);
  const [path, query] = statusUrl.split("?");
  console.log(`${framework} on ${app.url}; status routes under /jobs`);
  console.log(`  curl '${app.url}${statusUrl}'              # JSON, for polling`);
  console.log(`  curl -N '${app.url}${path}/events?${query}'  # Server-Sent Events until the job ends`);
  console.log(`  curl -X POST ${app.url}/hello               # another job`);
  const stop = async () => {
    await app.close();
    await runtime.close();
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
}

/** True when `moduleUrl` is the file Node was started with. */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(moduleUrl) === process.argv[1];
}
