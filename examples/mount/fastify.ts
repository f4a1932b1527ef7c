/**
 * Errand's status routes in a Fastify 5 app. Fastify owns its replies, so the route
 * hijacks the reply (Fastify sends nothing more) and hands the raw request and response to
 * `toNodeHandler`'s listener, which writes the JSON or the event stream itself.
 * Run: `node examples/dist/mount/fastify.js`.
 */
import Fastify from "fastify";

import { jobStatusHandler, toNodeHandler } from "@errand/core";

import { enqueueHello, isMain, runExample, type MountedApp, type StartOptions } from "./shared.js";

/** Starts the app; resolves once it listens. */
export async function start({ port = 0, secret }: StartOptions): Promise<MountedApp> {
  // Open event streams end with the server instead of holding close() until their jobs end.
  const app = Fastify({ forceCloseConnections: true });
  const status = toNodeHandler(jobStatusHandler({ basePath: "/jobs", secret }));
  app.get("/jobs/*", (request, reply) => {
    reply.hijack();
    status(request.raw, reply.raw, (error) => reply.raw.writeHead(error === undefined ? 404 : 500).end());
  });
  app.post("/hello", async (_request, reply) => reply.code(202).send(await enqueueHello(secret)));
  const url = await app.listen({ port, host: "127.0.0.1" });
  return { url, close: () => app.close() };
}

if (isMain(import.meta.url)) await runExample("Fastify", start);
