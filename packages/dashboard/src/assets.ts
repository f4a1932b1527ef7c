/**
 * The dashboard's two static files — one stylesheet, one module script — read once, served
 * under content-hashed names (`dashboard.3f9a1c2b7e.css`) so browsers cache them for a year
 * and a new release is fetched at once. Each is kept gzipped too, and sent so to browsers
 * that accept it: the mounting server need not compress anything.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

/** One static file. */
export interface Asset {
  /** Its name under `<base>/assets/`. */
  name: string;
  type: string;
  body: Uint8Array;
  gzipped: Uint8Array;
}

function load(url: URL, type: string, extension: string): Asset {
  let body: Buffer;
  try {
    body = readFileSync(url);
  } catch (error) {
    throw new Error(`@errand/dashboard: its ${extension} file is missing at ${url.pathname} (is the package built?)`, { cause: error });
  }
  const hash = createHash("sha256").update(body).digest("hex").slice(0, 10);
  return { name: `dashboard.${hash}.${extension}`, type, body, gzipped: gzipSync(body, { level: 9 }) };
}

let loaded: { css: Asset; js: Asset } | undefined;

/** The stylesheet and the script (read at the first call). */
export function assets(): { css: Asset; js: Asset } {
  return (loaded ??= {
    // The script is built by tsc from src/browser/ into dist/browser/; the stylesheet is served from src/browser/ as written.
    js: load(new URL("./browser/dashboard.js", import.meta.url), "text/javascript; charset=utf-8", "js"),
    css: load(new URL("../src/browser/dashboard.css", import.meta.url), "text/css; charset=utf-8", "css"),
  });
}

/** The response for an asset request. */
export function assetResponse(asset: Asset, request: Request): Response {
  const gzip = /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "");
  const body = gzip ? asset.gzipped : asset.body;
  const headers: Record<string, string> = {
    "content-type": asset.type,
    "content-length": String(body.byteLength),
    "cache-control": "public, max-age=31536000, immutable",
    "x-content-type-options": "nosniff",
    vary: "Accept-Encoding",
  };
  if (gzip) headers["content-encoding"] = "gzip";
  return new Response(request.method === "HEAD" ? null : body, { headers });
}
