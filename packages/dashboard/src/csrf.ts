/**
 * Cross-site request forgery protection for the dashboard's actions. Every action is a
 * POST, and a POST must pass two independent checks:
 *
 * 1. **Double-submit token.** The first page a browser gets sets a random token (32 bytes)
 *    in a cookie — `HttpOnly`, `SameSite=Strict`, `Path` the dashboard's base path, `Secure`
 *    over https — and every form carries the same token in a hidden field. A POST whose
 *    field does not equal its cookie is refused. Another site can make a browser send the
 *    cookie (not with SameSite=Strict, but an old browser might), never read it.
 * 2. **Origin.** The browser's own word on where the request comes from: `Sec-Fetch-Site`
 *    must be `same-origin` when sent; without it, `Origin` must be the dashboard's origin (or
 *    one of `trustedOrigins`, for a proxy that rewrites the host). A POST with neither header
 *    is refused: every browser in use sends one of them on a form POST.
 *
 * The token is not signed: signing would need a secret shared by every server process
 * behind a load balancer, and what signing guards against — a sibling subdomain planting
 * its own cookie — is refused by the origin check anyway (a sibling is `same-site`, not
 * `same-origin`). The second check is the same as Go's `CrossOriginProtection`.
 *
 * @module
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

/** The cookie's name. */
export const CSRF_COOKIE = "errand_csrf";
/** The hidden form field's name. */
export const CSRF_FIELD = "_csrf";

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The token a request's cookie carries, if it is well formed. */
export function tokenFromCookie(request: Request): string | undefined {
  const header = request.headers.get("cookie");
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === CSRF_COOKIE) {
      const value = rest.join("=");
      if (TOKEN.test(value)) return value;
    }
  }
  return undefined;
}

/** A fresh token. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The `Set-Cookie` value that gives a browser its token. */
export function tokenCookie(token: string, basePath: string, secure: boolean): string {
  return `${CSRF_COOKIE}=${token}; Path=${basePath || "/"}; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`;
}

/**
 * Why a POST is refused, or `undefined` when both checks pass.
 * @param field - the form's hidden token field, if it had one.
 */
export function csrfRefusal(request: Request, field: string | undefined, trustedOrigins: readonly string[]): string | undefined {
  const site = request.headers.get("sec-fetch-site");
  const origin = request.headers.get("origin");
  const own = new URL(request.url).origin;
  if (site !== null) {
    if (site !== "same-origin") return `cross-origin request refused (Sec-Fetch-Site: ${site}); actions must come from the dashboard's own pages`;
  } else if (origin === null) {
    return "request without an Origin header refused; actions must come from the dashboard's own pages in a browser";
  } else if (origin !== own && !trustedOrigins.includes(origin)) {
    return `cross-origin request refused (Origin: ${origin}); a proxy in front of the dashboard may need trustedOrigins: [${JSON.stringify(origin)}]`;
  }
  const cookie = tokenFromCookie(request);
  if (!cookie) return "no CSRF cookie (cookies blocked, or the session is new): reload the page and try again";
  if (field === undefined || field === "") return "the form carried no CSRF token: reload the page and try again";
  const a = Buffer.from(cookie);
  const b = Buffer.from(field);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return "the form's CSRF token does not match this browser's: reload the page and try again";
  return undefined;
}
