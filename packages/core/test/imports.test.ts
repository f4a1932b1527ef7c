// Core's modules load by plain imports: no module imports one that imports it back, and
// nothing depends on `index.ts` having run first (no registration at import time). This
// file deliberately does not import `../src/index.js`.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { afterEach, describe, expect, it } from "vitest";

import { Job } from "../src/job/job.js";
import { Mailer } from "../src/mailer/mailer.js";
import { isMailerClass } from "../src/mailer/registry.js";
import { configure, isJobClass, type Runtime } from "../src/runtime.js";
import { waitFor } from "../src/testing/wait-for.js";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

/** Relative modules each source file imports for their values (`import type` and `export type` are erased). */
function valueImports(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const files = readdirSync(SRC, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".ts"));
  for (const file of files) {
    const source = readFileSync(join(SRC, file), "utf8");
    const targets: string[] = [];
    // Under verbatimModuleSyntax, `import { type A }` stays as `import {}`: it counts.
    for (const match of source.matchAll(/^(?:import|export)(?!\s+type\s)[^;]*?["'](\.{1,2}\/[^"']+)\.js["'];/gms)) {
      targets.push(relative(SRC, resolve(SRC, dirname(file), `${match[1]}.ts`)));
    }
    graph.set(file, targets);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, as the path that closes it. */
function cycles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const done = new Set<string>();
  const walk = (file: string, path: string[]): void => {
    if (path.includes(file)) {
      found.push([...path.slice(path.indexOf(file)), file].join(" -> "));
      return;
    }
    if (done.has(file)) return;
    for (const next of graph.get(file) ?? []) walk(next, [...path, file]);
    done.add(file);
  };
  for (const file of graph.keys()) walk(file, []);
  return found;
}

let runtime: Runtime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

class EchoJob extends Job<[word: string], string> {
  async perform(word: string) {
    return word;
  }
}

class NoteMailer extends Mailer {}

describe("core's imports", () => {
  it("the source has no import cycle", () => {
    const graph = valueImports();
    expect(graph.get("job/job.ts")).toContain("job/enqueuing.ts"); // the scan sees imports at all
    expect(cycles(graph)).toEqual([]);
  });

  it("job and mailer classes are recognised without index.ts", () => {
    expect([isJobClass(EchoJob), isJobClass(Job), isJobClass(class NotAJob {})]).toEqual([true, false, false]);
    expect([isMailerClass(NoteMailer), isMailerClass(Mailer), isMailerClass(class NotAMailer {})]).toEqual([true, false, false]);
  });

  it("the async adapter starts its embedded worker without index.ts having loaded the worker", async () => {
    runtime = configure({ adapter: "async" });
    const { jobId } = await EchoJob.performLater("hi");
    const status = await waitFor(async () => {
      const found = await EchoJob.status(jobId);
      return found?.state === "succeeded" && found;
    }, { timeoutMs: 5000, message: `job ${jobId} to succeed on the embedded worker` });
    expect(status.result).toBe("hi");
  });
});
