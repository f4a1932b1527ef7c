/**
 * The version of `@errand/core` this CLI belongs to: what `errand --version` prints and
 * the range `errand init` installs.
 *
 * @module
 */
import { readFileSync } from "node:fs";

let cached: string | undefined;

/** `version` of core's package.json (read once). */
export function packageVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  return cached;
}
