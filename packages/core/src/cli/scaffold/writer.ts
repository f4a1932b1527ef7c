/**
 * Writing generated files: nothing that exists is overwritten without `--force`, and every
 * file is reported (`create`, `overwrite`, `update`, `identical`, `skip`), as Rails'
 * generators do. A plan is checked whole before the first write, so a refused run writes
 * nothing.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

import { CliUsageError } from "../context.js";

/** One file to write, relative to the app's root. */
export interface PlannedFile {
  path: string;
  content: string;
  /**
   * How an existing file is treated: `refuse` (the default: an error without `--force`),
   * or `merge`, whose `content` is computed from the existing text (package.json's scripts,
   * a Procfile line) and never loses what was there.
   */
  existing?: "refuse" | "merge";
}

/** What happened to each file. */
export interface WrittenFile {
  path: string;
  action: "create" | "overwrite" | "update" | "identical";
}

/**
 * Writes `files` under `root`.
 * @throws CliUsageError listing every file that exists when `force` is false; nothing is written then.
 */
export function writeFiles(root: string, files: readonly PlannedFile[], options: { force?: boolean; dryRun?: boolean } = {}): WrittenFile[] {
  const clashes = files.filter((file) => (file.existing ?? "refuse") === "refuse" && existsSync(join(root, file.path)) && readFileSync(join(root, file.path), "utf8") !== file.content);
  if (clashes.length > 0 && !options.force) {
    const names = clashes.map((file) => file.path).join(", ");
    throw new CliUsageError(`${names} already ${clashes.length === 1 ? "exists" : "exist"}; nothing was written (use --force to overwrite)`);
  }
  return files.map((file) => {
    const target = join(root, file.path);
    const before = existsSync(target) ? readFileSync(target, "utf8") : undefined;
    const action: WrittenFile["action"] = before === undefined ? "create" : before === file.content ? "identical" : file.existing === "merge" ? "update" : "overwrite";
    if (action !== "identical" && !options.dryRun) {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.content);
    }
    return { path: relative(root, target), action };
  });
}

/** The report lines: `  create  jobs/guests-cleanup-job.ts`. */
export function reportLines(written: readonly WrittenFile[]): string[] {
  return written.map(({ path, action }) => `  ${action.padEnd(9)} ${path}`);
}
