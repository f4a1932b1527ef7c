// Prints the size of @errand/client's main entry as a page ships it: bundled and minified
// with esbuild, then gzipped (level 9). Goal: under 2 KB gzipped; test/client-size.test.ts
// holds it under 2048 bytes. Run with `npm run size -w @errand/client` (builds first).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

import { build } from "esbuild";

const entry = fileURLToPath(new URL("../dist/index.js", import.meta.url));

/**
 * Bundles and minifies `dist/index.js` and measures it.
 * @returns {Promise<{ minified: number; gzipped: number }>} sizes in bytes
 */
export async function measureClientSize() {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build first (npx tsc -b)`);
  const result = await build({ entryPoints: [entry], bundle: true, minify: true, format: "esm", target: "es2022", write: false, logLevel: "silent" });
  const code = result.outputFiles[0].contents;
  return { minified: code.byteLength, gzipped: gzipSync(code, { level: 9 }).byteLength };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { minified, gzipped } = await measureClientSize();
  console.log(`@errand/client (dist/index.js, bundled + minified): ${minified} bytes, ${gzipped} bytes gzipped`);
}
