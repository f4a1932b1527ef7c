/**
 * Signed per-job status tokens. The server hands a page a job id with a token; the status
 * handler serves that job's status to whoever holds the token until it expires, and no
 * other job's.
 *
 * A token is `v1.<expiry>.<signature>`: the expiry in milliseconds since the epoch
 * (base 36), and HMAC-SHA256 over the job id and expiry, base64url (43 characters): 55–60
 * characters in all. Verification recomputes the signature with each configured secret
 * (the first signs; more allow rotating one out) and compares in constant time.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { ConfigError } from "../errors.js";
import { toMs, type Duration } from "../duration.js";
import { rules, validateOptions, type OptionSchema } from "../config/validate.js";

/**
 * Shortest secret accepted, in characters: 32 characters of base64 (`openssl rand -base64
 * 32` prints 44) carry far more than HMAC-SHA256's 256 bits need; shorter ones are
 * usually a placeholder left in place.
 */
const MIN_SECRET_LENGTH = 32;
const DEFAULT_EXPIRY: Duration = "1h";
const CONTEXT = "errand-status.v1";

/** One secret, or several (the first signs, every one verifies: rotate by prepending). */
export type StatusSecret = string | readonly string[];

/** Options of {@link statusToken}. */
export interface StatusTokenOptions {
  /** The server's secret (`process.env.ERRAND_SECRET`), at least 32 characters. */
  secret: StatusSecret;
  /**
   * How long the token opens the job's status; default `"1h"`. It is checked when a
   * request arrives: an open event stream outlives it, a later poll or reconnect does not.
   */
  expiresIn?: Duration;
}

const TOKEN_SCHEMA: OptionSchema<StatusTokenOptions> = {
  secret: { expected: "a string or an array of strings", test: (v) => typeof v === "string" || Array.isArray(v) },
  expiresIn: rules.duration,
};

/** Why a token was refused. */
export type TokenRefusal = "missing" | "malformed" | "forged" | "expired";

/**
 * Signs a token that opens one job's status (for `jobStatusHandler({ secret })`).
 * @example
 * const { jobId } = await FetchFeedJob.performLater(url);
 * const token = statusToken(jobId, { secret: process.env.ERRAND_SECRET!, expiresIn: "1h" });
 * response.json({ jobId, statusUrl: `/jobs/${jobId}?token=${token}` });
 * @throws ConfigError for a missing or short secret, or a bad `expiresIn`.
 */
export function statusToken(jobId: string, options: StatusTokenOptions): string {
  validateOptions(options, TOKEN_SCHEMA, "the statusToken options");
  if (typeof jobId !== "string" || jobId.length === 0) throw new TypeError("statusToken: jobId must be a non-empty string");
  const [signer] = checkSecrets(options?.secret, "statusToken");
  const ttl = toMs(options.expiresIn ?? DEFAULT_EXPIRY, "statusToken expiresIn");
  if (ttl <= 0) throw new ConfigError(`statusToken: expiresIn must be positive, got ${ttl} ms`);
  const expiry = (Date.now() + ttl).toString(36);
  return `v1.${expiry}.${sign(signer!, jobId, expiry).toString("base64url")}`;
}

/**
 * Checks a token for a job: `null` when it opens the job's status now, else why not.
 * `jobStatusHandler` calls it; export it to guard routes of your own the same way.
 */
export function verifyStatusToken(token: string | null | undefined, jobId: string, secret: StatusSecret): TokenRefusal | null {
  const secrets = checkSecrets(secret, "verifyStatusToken");
  if (token === null || token === undefined || token === "") return "missing";
  const match = /^v1\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return "malformed";
  const [, expiry, signature] = match as unknown as [string, string, string];
  const given = Buffer.from(signature, "base64url");
  // Every secret is tried, whichever matches, so the time taken says nothing about which.
  let valid = false;
  for (const candidate of secrets) valid = timingSafeEqual(sign(candidate, jobId, expiry), given) || valid;
  if (!valid) return "forged";
  return Number.parseInt(expiry, 36) <= Date.now() ? "expired" : null;
}

function sign(secret: string, jobId: string, expiry: string): Buffer {
  return createHmac("sha256", secret).update(`${CONTEXT}\0${jobId}\0${expiry}`).digest();
}

/**
 * The secrets as a non-empty list of long enough strings.
 * @throws ConfigError naming what is wrong, never the secret itself.
 */
export function checkSecrets(secret: unknown, where: string): readonly string[] {
  const list = typeof secret === "string" ? [secret] : Array.isArray(secret) ? (secret as unknown[]) : undefined;
  if (!list || list.length === 0) {
    throw new ConfigError(`${where}: secret is missing (got ${secret === undefined ? "undefined" : typeof secret}); pass a string of at least ${MIN_SECRET_LENGTH} characters, e.g. process.env.ERRAND_SECRET (openssl rand -base64 32)`);
  }
  list.forEach((item, index) => {
    const name = list.length > 1 ? `secret[${index}]` : "secret";
    if (typeof item !== "string") throw new ConfigError(`${where}: ${name} must be a string, got ${typeof item}`);
    if (item.length < MIN_SECRET_LENGTH) {
      throw new ConfigError(`${where}: ${name} is too short (${item.length} characters; at least ${MIN_SECRET_LENGTH}, e.g. openssl rand -base64 32)`);
    }
  });
  return list as string[];
}
