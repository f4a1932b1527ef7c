// Talking to a dashboard handler without a browser, as a browser would: a session keeps the
// CSRF cookie the first page set and the token its forms carry, and posts forms with the
// headers a same-origin form POST has (Origin, Sec-Fetch-Site).
import type { Dashboard } from "@errand/dashboard";

/** The origin test requests use. */
export const ORIGIN = "http://dashboard.test";

/** A GET of `path` (with the session's cookie, if any). */
export function get(ui: Dashboard, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return ui(new Request(`${ORIGIN}${path}`, { headers }));
}

/** The value of the first hidden `_csrf` field in a page. */
export function csrfFieldOf(page: string): string | undefined {
  return /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
}

/** A browser's session with a dashboard: its CSRF cookie and token. */
export class Session {
  cookie = "";
  token = "";

  constructor(
    readonly ui: Dashboard,
    /** Headers every request carries (an Authorization header). */
    readonly headers: Record<string, string> = {},
  ) {}

  /** GETs a page, keeping the CSRF cookie it sets. */
  async get(path: string): Promise<{ response: Response; text: string }> {
    const response = await get(this.ui, path, { ...this.headers, ...(this.cookie ? { cookie: this.cookie } : {}) });
    const set = response.headers.get("set-cookie");
    if (set) {
      this.cookie = set.split(";")[0]!;
      this.token = this.cookie.split("=")[1]!;
    }
    return { response, text: await response.text() };
  }

  /** Opens the session: one page, for the cookie. */
  async start(path = "/"): Promise<this> {
    await this.get(path);
    if (!this.cookie) throw new Error(`no CSRF cookie from ${path}`);
    return this;
  }

  /**
   * POSTs a form as a same-origin page does: the session's cookie and token unless
   * `options` says otherwise.
   */
  post(
    path: string,
    fields: Record<string, string | string[]>,
    options: { token?: string | null; cookie?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const body = new URLSearchParams();
    const token = options.token === undefined ? this.token : options.token;
    if (token !== null) body.set("_csrf", token);
    for (const [name, value] of Object.entries(fields)) for (const item of typeof value === "string" ? [value] : value) body.append(name, item);
    const cookie = options.cookie === undefined ? this.cookie : options.cookie;
    const headers: Record<string, string> = {
      ...this.headers,
      "content-type": "application/x-www-form-urlencoded",
      origin: ORIGIN,
      "sec-fetch-site": "same-origin",
      ...(cookie ? { cookie } : {}),
      ...options.headers,
    };
    for (const [key, value] of Object.entries(headers)) if (value === "") delete headers[key];
    return this.ui(new Request(`${ORIGIN}${path}`, { method: "POST", headers, body }));
  }
}
