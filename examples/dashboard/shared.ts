/**
 * What the four dashboard mounting examples share: a few jobs to look at, and the `main`
 * each runs when started on its own (`node examples/dist/dashboard/express.js`). Each
 * example is one small file that mounts the dashboard in its framework, behind Basic
 * authentication; everything else is here.
 */
import { fileURLToPath } from "node:url";

import { configure, Job } from "@errand/core";

/** A job with a secret among its arguments, which the dashboard shows as [FILTERED]. */
export class InviteJob extends Job<[invite: { email: string; token: string }], string> {
  static override jobName = "InviteJob";
  static override queue = "mailers";
  async perform(invite: { email: string; token: string }): Promise<string> {
    return `invited ${invite.email}`;
  }
}

/** A running example server. */
export interface MountedApp {
  /** Base URL, such as `http://127.0.0.1:3000`. The dashboard is under `/errand`. */
  url: string;
  /** Stops the server, ending the dashboard's open event streams. */
  close(): Promise<void>;
}

/** Options every example's `start` takes. */
export interface StartOptions {
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** The Basic-auth password of user `ops`. */
  password: string;
}

/**
 * Runs an example on its own: the async adapter, a few jobs, the server on `PORT`
 * (default 3000); Ctrl-C stops it.
 */
export async function runExample(framework: string, start: (options: StartOptions) => Promise<MountedApp>): Promise<void> {
  const runtime = configure({ adapter: "async", jobs: [InviteJob] });
  await runtime.start();
  const password = process.env.OPS_PASSWORD || "change-me";
  const app = await start({ port: Number(process.env.PORT ?? 3000), password });
  await InviteJob.performLater({ email: "ada@example.com", token: "inv_123" });
  await InviteJob.set({ wait: "1h" }).performLater({ email: "grace@example.com", token: "inv_456" });
  console.log(`${framework} on ${app.url}; the dashboard is at ${app.url}/errand (user ops, password ${process.env.OPS_PASSWORD ? "from OPS_PASSWORD" : password})`);
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
