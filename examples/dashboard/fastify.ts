/**
 * The dashboard in a Fastify 5 app. Fastify owns its replies and parses bodies, so the
 * dashboard's routes live in a plugin scope that accepts any body unparsed (the dashboard
 * reads its own forms); each hijacks its reply and hands the raw request and response to
 * `toNodeHandler`'s listener. Run: `node examples/dist/dashboard/fastify.js`.
 */
import Fastify from "fastify";

import { toNodeHandler } from "@errand/core";
import { basicAuth, dashboard } from "@errand/dashboard";

import { isMain, runExample, type MountedApp, type StartOptions } from "./shared.js";

/** Starts the app; resolves once it listens. */
export async function start({ port = 0, password }: StartOptions): Promise<MountedApp> {
  const ui = dashboard({ basePath: "/errand", authorize: basicAuth({ username: "ops", password }) });
  const errand = toNodeHandler(ui);
  const app = Fastify();
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
    scope.all("/errand", route);
    scope.all("/errand/*", route);
  });
  function route(request: { raw: Parameters<typeof errand>[0] }, reply: { hijack(): void; raw: Parameters<typeof errand>[1] }) {
    reply.hijack();
    errand(request.raw, reply.raw, (error) => reply.raw.writeHead(error === undefined ? 404 : 500).end());
  }
  app.get("/", async () => "the app's own page");
  const url = await app.listen({ port, host: "127.0.0.1" });
  return {
    url,
    close: async () => {
      ui.closeStreams();
      await app.close();
    },
  };
}

if (isMain(import.meta.url)) await runExample("Fastify", start);
