/**
 * `@errand/dashboard`: Errand's operator web UI — queues with their counts, latency and
 * throughput, jobs by state, one job's arguments, progress, result, error and attempts,
 * the actions an operator needs (retry, discard, run now, cancel, abort, interrupt, pause, resume),
 * recurring tasks and workers — live, on every backend. One Fetch-API handler, mounted in
 * the app's own server.
 *
 * @example
 * import { toNodeHandler } from "@errand/core";
 * import { basicAuth, dashboard } from "@errand/dashboard";
 *
 * const ui = dashboard({ basePath: "/errand", authorize: basicAuth({ username: "ops", password: process.env.OPS_PASSWORD! }) });
 * app.use(toNodeHandler(ui)); // Express; node:http, Fastify and Hono in the README
 *
 * @module
 */
export { dashboard } from "./handler.js";
export type { Dashboard } from "./handler.js";
export type { DashboardOptions } from "./options.js";
export { basicAuth } from "./auth.js";
export type { Authorize, BasicAuthOptions } from "./auth.js";
export { DEFAULT_ARGUMENT_FILTERS, FILTERED } from "./redact.js";
export type { ArgumentFilter, ArgumentFilterFunction, ArgumentPath } from "./redact.js";
export { CSRF_COOKIE, CSRF_FIELD } from "./csrf.js";
