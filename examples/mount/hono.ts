/**
 * Errand's status routes in a Hono 4 app on `@hono/node-server`. Hono speaks the Fetch API,
 * so the handler needs no adapter: the route passes Hono's `Request` in and returns the
 * handler's `Response` (a stream, for events; the node server cancels it when the client
 * goes). Run: `node examples/dist/mount/hono.js`.
 */
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

import { serve } from "@hono/node-server";
import { Hono } from "hono";

import { jobStatusHandler } from "@errand/core";

import { enqueueHello, isMain, runExample, type MountedApp, type StartOptions } from "./shared.js";

/** Starts the app; resolves once it listens. */
export async function start({ port = 0, secret }: StartOptions): Promise<MountedApp> {
  const status = jobStatusHandler({ basePath: "/jobs", secret });
  const app = new Hono();
  app.get("/jobs/*", (c) => status(c.req.raw));
  app.post("/hello", async (c) => c.json(await enqueueHello(secret), 202));
  const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }) as Server;
  if (!server.listening) await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

if (isMain(import.meta.url)) await runExample("Hono", start);
