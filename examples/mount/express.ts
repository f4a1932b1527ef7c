/**
 * Errand's status routes in an Express 5 app: `toNodeHandler`'s listener is Express
 * middleware, and calls `next()` for every path outside `/jobs`.
 * Run: `node examples/dist/mount/express.js`.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";

import express from "express";

import { jobStatusHandler, toNodeHandler } from "@errand/core";

import { enqueueHello, isMain, runExample, type MountedApp, type StartOptions } from "./shared.js";

/** Starts the app; resolves once it listens. */
export async function start({ port = 0, secret }: StartOptions): Promise<MountedApp> {
  const app = express();
  app.use(toNodeHandler(jobStatusHandler({ basePath: "/jobs", secret })));
  app.post("/hello", async (_req, res) => {
    res.status(202).json(await enqueueHello(secret));
  });
  const server = app.listen(port, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

if (isMain(import.meta.url)) await runExample("Express", start);
