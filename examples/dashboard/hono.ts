/**
 * The dashboard in a Hono 4 app on `@hono/node-server`. Hono speaks the Fetch API, so the
 * dashboard needs no adapter: its routes pass Hono's `Request` in and return the
 * dashboard's `Response`. Run: `node examples/dist/dashboard/hono.js`.
 */
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

import { serve } from "@hono/node-server";
import { Hono } from "hono";

import { basicAuth, dashboard } from "@errand/dashboard";

import { isMain, runExample, type MountedApp, type StartOptions } from "./shared.js";

/** Starts the app; resolves once it listens. */
export async function start({ port = 0, password }: StartOptions): Promise<MountedApp> {
  const ui = dashboard({ basePath: "/errand", authorize: basicAuth({ username: "ops", password }) });
  const app = new Hono();
  app.all("/errand", (c) => ui(c.req.raw));
  app.all("/errand/*", (c) => ui(c.req.raw));
  app.get("/", (c) => c.text("the app's own page"));
  const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }) as Server;
  if (!server.listening) await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      ui.closeStreams();
      server.close();
      await once(server, "close");
    },
  };
}

if (isMain(import.meta.url)) await runExample("Hono", start);
