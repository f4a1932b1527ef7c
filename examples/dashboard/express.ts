/**
 * The dashboard in an Express 5 app: `toNodeHandler`'s listener is Express middleware and
 * calls `next()` for every path outside `/errand`. Mount it before any body parser: the
 * dashboard reads its own forms. Run: `node examples/dist/dashboard/express.js`.
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";

import express from "express";

import { toNodeHandler } from "@errand/core";
import { basicAuth, dashboard } from "@errand/dashboard";

import { isMain, runExample, type MountedApp, type StartOptions } from "./shared.js";

/** Starts the app; resolves once it listens. */
export async function start({ port = 0, password }: StartOptions): Promise<MountedApp> {
  const ui = dashboard({ basePath: "/errand", authorize: basicAuth({ username: "ops", password }) });
  const app = express();
  app.use(toNodeHandler(ui));
  app.use(express.urlencoded({ extended: false })); // the app's own forms, after the dashboard
  app.get("/", (_req, res) => {
    res.send("the app's own page");
  });
  const server = app.listen(port, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      ui.closeStreams();
      server.close();
      await once(server, "close");
    },
  };
}

if (isMain(import.meta.url)) await runExample("Express", start);
