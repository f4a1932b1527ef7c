// The quick start is quiet: `npm install` on a fresh clone prints no warning. npm warns
// about two things a lockfile decides: a package whose `engines.node` excludes the Node we
// run on (EBADENGINE), and a package with an install script that `allowScripts` in the
// root package.json does not mention (npm 11.16+). Both are checked here from the lockfile,
// so a dependency bump that would bring a warning back fails this test instead of a
// newcomer's first `npm run demo`.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import semver from "semver";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const lock = JSON.parse(readFileSync(`${root}/package-lock.json`, "utf8")) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; hasInstallScript?: boolean; optional?: boolean; os?: string[] }>;
};
const manifest = JSON.parse(readFileSync(`${root}/package.json`, "utf8")) as { allowScripts?: Record<string, boolean> };

/** The package name of a lockfile key such as `node_modules/a/node_modules/@s/b`. */
function nameOf(key: string): string {
  return key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
}

describe("a fresh npm install prints no warning", () => {
  it("every installed package accepts the Node we run on (no EBADENGINE)", () => {
    const refusing = Object.entries(lock.packages)
      .filter(([key, entry]) => key.includes("node_modules/") && !Array.isArray(entry.engines) && entry.engines?.node)
      .filter(([, entry]) => !(entry.os && !entry.os.includes(process.platform)))
      .filter(([, entry]) => !semver.satisfies(process.version, (entry.engines as { node: string }).node))
      .map(([key, entry]) => `${nameOf(key)}@${entry.version} needs node ${(entry.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });

  it("every package with an install script is reviewed in allowScripts", () => {
    const reviewed = manifest.allowScripts ?? {};
    const unreviewed = Object.entries(lock.packages)
      .filter(([key, entry]) => key.includes("node_modules/") && entry.hasInstallScript)
      .map(([key]) => nameOf(key))
      .filter((name) => !(name in reviewed));
    expect(unreviewed).toEqual([]);
  });
});
