// The runnable example of packages/dashboard/README.md (kept identical by test/readme.test.ts).
// The dashboard in a plain node:http server, behind Basic authentication: `toNodeHandler`
// turns it into a listener whose `next` runs the app's own routes for every path outside
// /errand. Run: `node examples/dist/dashboard/node-http.js`.
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { toNodeHandler } from "@errand/core";
import { basicAuth, dashboard } from "@errand/dashboard";

import { isMain, runExample, type MountedApp, type StartOptions } from "./shared.js";

/** Starts the server; resolves once it listens. */
export async function start({ port = 0, password }: StartOptions): Promise<MountedApp> {
  const ui = dashboard({
    basePath: "/errand",
    authorize: basicAuth({ username: "ops", password }),
    filterArguments: ["passw", "token", "*.card.number"],
  });
  const errand = toNodeHandler(ui);
  const server = createServer((req, res) => {
    errand(req, res, () => {
      // Not under /errand: the app's own routes.
      res.writeHead(200, { "content-type": "text/plain" }).end("the app's own page");
    });
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      ui.closeStreams(); // open event streams would keep close() waiting
      server.close();
      await once(server, "close");
    },
  };
}

if (isMain(import.meta.url)) await runExample("node:http", start);
