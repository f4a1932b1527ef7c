/**
 * Who may see the dashboard: the app's `authorize(request)` rule, run before every request
 * is served (pages, assets, event streams, actions), and `basicAuth`, a rule for apps
 * without a login of their own.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";

import { ConfigError } from "@errand/core";

/**
 * The access rule: `true` serves the request; `false` refuses it with 403; a `Response` is
 * sent as it is (a 401 challenge, a redirect to the app's login page). May be async.
 */
export type Authorize = (request: Request) => boolean | Response | Promise<boolean | Response>;

/** Options of {@link basicAuth}. */
export interface BasicAuthOptions {
  username: string;
  password: string;
  /** The realm browsers show in their login prompt; default `"Errand"`. */
  realm?: string;
}

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/** Compares two strings in time that depends on neither (their SHA-256 digests are compared). */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * An {@link Authorize} rule for HTTP Basic authentication: the right credentials pass;
 * anything else gets 401 with a `WWW-Authenticate` challenge, so browsers ask for them.
 * Credentials are compared in constant time. Use it over https only: Basic sends the
 * password with every request.
 * @example
 * dashboard({ basePath: "/errand", authorize: basicAuth({ username: "ops", password: process.env.ERRAND_DASHBOARD_PASSWORD! }) });
 * @throws ConfigError when a credential is missing or empty, or for an unknown option.
 */
export function basicAuth(options: BasicAuthOptions): (request: Request) => true | Response {
  if (typeof options !== "object" || options === null) throw new ConfigError("basicAuth needs { username, password }");
  for (const key of Object.keys(options)) {
    if (!["username", "password", "realm"].includes(key)) throw new ConfigError(`basicAuth: unknown option ${JSON.stringify(key)}; valid options: username, password, realm`);
  }
  const { username, password, realm = "Errand" } = options;
  for (const [key, value] of [["username", username], ["password", password], ["realm", realm]] as const) {
    if (typeof value !== "string" || value === "") throw new ConfigError(`basicAuth: ${key} must be a non-empty string`);
  }
  if (username.includes(":")) throw new ConfigError("basicAuth: username must not contain ':' (Basic credentials are user:password)");
  if (/["\\\r\n]/.test(realm)) throw new ConfigError("basicAuth: realm must not contain quotes, backslashes or line breaks");
  const expected = `${username}:${password}`;
  const challenge = () =>
    new Response("Authentication required", {
      status: 401,
      headers: { "www-authenticate": `Basic realm="${realm}", charset="UTF-8"`, "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
    });
  return (request) => {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(request.headers.get("authorization") ?? "");
    if (!match) return challenge();
    const given = Buffer.from(match[1]!, "base64").toString("utf8");
    return constantTimeEqual(given, expected) ? true : challenge();
  };
}
