/**
 * Errand's status routes in a plain `node:http` server: `toNodeHandler` turns the Fetch-API
 * handler into a listener, and its `next` runs the app's own routes for everything outside
 * `/jobs`. Run: `node examples/dist/mount/node-http.js`.
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { jobStatusHandler, toNodeHandler } from "@errand/core";

import { enqueueHello, isMain, runExample, type MountedApp, type StartOptions } from "./shared.js";

/** Starts the server; resolves once it listens. */
export async function start({ port = 0, secret }: StartOptions): Promise<MountedApp> {
  const status = toNodeHandler(jobStatusHandler({ basePath: "/jobs", secret }));
  const server = createServer((req, res) => {
    status(req, res, async () => {
      // Not under /jobs: the app's own routes.
      if (req.method === "POST" && req.url === "/hello") {
        res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify(await enqueueHello(secret)));
      } else res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found" }));
    });
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections(); // open event streams would keep close() waiting
      server.close();
      await once(server, "close");
    },
  };
}

if (isMain(import.meta.url)) await runExample("node:http", start);
