/**
 * Cross-origin access to the status routes: off unless the app names the origins. A
 * matching `Origin` gets `Access-Control-Allow-Origin` with that origin (never `*`, so
 * `credentials` can work) and `Vary: Origin`; others get no CORS headers, and the browser
 * keeps the response from the page.
 *
 * @module
 */
import { rules, type OptionRule, type OptionSchema } from "../config/validate.js";
import { toMs, type Duration } from "../duration.js";

/** Which other origins may read job statuses. */
export interface CorsOptions {
  /** Allowed origins, exactly as browsers send them (`"https://app.example.com"`). */
  origin: string | readonly string[];
  /** Allow cookies (`fetch(…, { credentials: "include" })`, `new EventSource(url, { withCredentials: true })`). */
  credentials?: boolean;
  /** How long browsers may cache a preflight answer; default `"10m"`. */
  maxAge?: Duration;
}

const CORS_SCHEMA: OptionSchema<CorsOptions> = {
  origin: rules.anyOf(rules.nonEmptyString, rules.arrayOf(rules.nonEmptyString)),
  credentials: rules.boolean,
  maxAge: rules.duration,
};

/** The rule for a `cors` option. */
export const CORS_RULE: OptionRule = rules.object(CORS_SCHEMA as OptionSchema);

function allowedOrigin(cors: CorsOptions | undefined, request: Request): string | undefined {
  const origin = request.headers.get("origin");
  if (!cors || !origin) return undefined;
  const allowed = typeof cors.origin === "string" ? [cors.origin] : cors.origin;
  return allowed.includes(origin) ? origin : undefined;
}

/** Headers for a response to `request` (empty unless its origin is allowed). */
export function corsHeaders(cors: CorsOptions | undefined, request: Request): Record<string, string> {
  const origin = allowedOrigin(cors, request);
  if (!origin) return cors ? { vary: "Origin" } : {};
  const headers: Record<string, string> = { "access-control-allow-origin": origin, vary: "Origin" };
  if (cors!.credentials) headers["access-control-allow-credentials"] = "true";
  return headers;
}

/** The answer to a preflight (`OPTIONS`) request. */
export function preflight(cors: CorsOptions, request: Request): Response {
  const headers = corsHeaders(cors, request);
  if (headers["access-control-allow-origin"]) {
    headers["access-control-allow-methods"] = "GET, HEAD";
    headers["access-control-allow-headers"] = "Authorization, Last-Event-ID";
    headers["access-control-max-age"] = String(Math.round(toMs(cors.maxAge ?? "10m", "cors.maxAge") / 1000));
  }
  return new Response(null, { status: 204, headers });
}
