// Page scripts for the browser tests: esbuild bundles an entry under test/support/pages (or
// a snippet, such as a README example) with what it imports — the built @errand/client
// from its dist, React — into one ES module a fixture server hands the page.
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

/** The folder of the page entries (type-checked by its own tsconfig: DOM, JSX). */
export const PAGES_DIR = fileURLToPath(new URL("./pages/", import.meta.url));

const COMMON = {
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  write: false,
  logLevel: "silent",
  jsx: "automatic",
  // React reads process.env.NODE_ENV; development keeps its warnings readable.
  define: { "process.env.NODE_ENV": '"development"' },
} as const;

const cache = new Map<string, Promise<string>>();

/** Bundles `entry` (a file name under {@link PAGES_DIR}, or an absolute path); cached per run. */
export function bundlePage(entry: string): Promise<string> {
  const path = entry.startsWith("/") ? entry : `${PAGES_DIR}${entry}`;
  let bundled = cache.get(path);
  if (!bundled) {
    bundled = build({ ...COMMON, entryPoints: [path] }).then((result) => result.outputFiles[0]!.text);
    cache.set(path, bundled);
  }
  return bundled;
}

/** Bundles TypeScript `source` whose imports resolve from {@link PAGES_DIR}. */
export async function bundleSource(source: string): Promise<string> {
  const result = await build({ ...COMMON, stdin: { contents: source, loader: "ts", resolveDir: PAGES_DIR, sourcefile: "snippet.ts" } });
  return result.outputFiles[0]!.text;
}

/** A minimal HTML page: `body` markup, then `script` (a path) loaded as an ES module. */
export function htmlPage(options: { title: string; body?: string; script: string }): string {
  return (
    `<!doctype html><html><head><meta charset="utf-8"><title>${options.title}</title></head>` +
    `<body>${options.body ?? ""}<script type="module" src="${options.script}"></script></body></html>`
  );
}
