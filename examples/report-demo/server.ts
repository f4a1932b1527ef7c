/**
 * A plain `node:http` app. `POST /reports` answers at once with 202, the job id, its
 * state and a status URL (a user's first report also enqueues their welcome mail); `GET /reports/:id`
 * answers with the job's status as JSON.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

import { statusToJSON } from "@errand/core";

import { db } from "./models.js";
import { ReportJob, WelcomeMailer } from "./report-job.js";

// Users already welcomed to Reports (in a real app, a column of the users table).
const welcomed = new Set<number>();

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length === 0 ? {} : (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", `http://${req.headers.host}`);

  if (req.method === "POST" && url.pathname === "/reports") {
    const { userId, month } = await readJson(req);
    const user = db.users.get(Number(userId));
    if (!user) return send(res, 404, { error: `no user ${String(userId)}` });
    // The slow part happens later, in the worker; the request only enqueues.
    const { jobId } = await ReportJob.performLater(user, new Date(String(month)));
    // So is the welcome mail: an SMTP round trip has no place in the request either.
    if (!welcomed.has(user.id)) {
      welcomed.add(user.id);
      await WelcomeMailer.welcome(user).deliverLater();
    }
    // The job's state as the answer leaves: queued (or just started), never finished.
    const state = (await ReportJob.status(jobId))?.state;
    return send(res, 202, { jobId, state, status: `${url.origin}/reports/${jobId}` });
  }

  if (req.method === "GET" && url.pathname === "/health") return send(res, 200, { ok: true });

  const match = /^\/reports\/([0-9a-f-]{36})$/.exec(url.pathname);
  if (req.method === "GET" && match) {
    const status = await ReportJob.status(match[1]!);
    if (!status) return send(res, 404, { error: "unknown job" });
    return send(res, 200, statusToJSON(status));
  }

  send(res, 404, { error: "not found" });
}

export function createApp(): Server {
  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { error: String(error) }));
  });
}
