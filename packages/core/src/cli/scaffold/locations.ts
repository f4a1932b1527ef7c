/**
 * Where generated jobs and mailers go: `--dir`, else the folder of the app config's `jobs`
 * globs (read from its text: the config may be TypeScript, and generating must not import
 * the app), else `jobs/` and `mailers/`.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

import { CliUsageError } from "../context.js";
import type { Project } from "./project.js";

/** Folders named by the config's `"<dir>/**\/*.<ext>"` globs, in order. */
export function globFolders(project: Pick<Project, "root" | "configFile">): string[] {
  if (!project.configFile) return [];
  const text = readFileSync(join(project.root, project.configFile), "utf8");
  return [...text.matchAll(/["'`](?:\.\/)?([\w@.-]+(?:\/[\w@.-]+)*)\/\*\*\/\*(?:\.[\w{},]+)?["'`]/g)].map((match) => match[1]!);
}

/** The folder for generated `kind`s. */
export function folderFor(kind: "job" | "mailer", project: Pick<Project, "root" | "configFile">, dir?: string): string {
  if (dir !== undefined) {
    if (dir.startsWith("/") || dir.split(/[\\/]/).includes("..")) throw new CliUsageError(`--dir ${dir}: give a folder inside the app (relative to ${project.root})`);
    return dir.replace(/[\\/]+$/, "");
  }
  const folders = globFolders(project);
  const mailerFolder = folders.find((folder) => /mailer/i.test(folder));
  if (kind === "mailer") return mailerFolder ?? "mailers";
  return folders.find((folder) => folder !== mailerFolder) ?? "jobs";
}

/**
 * Refuses a class name another file already declares, in `folder`, `jobs/`, `mailers/` or any folder the config's
 * globs name (the registry knows a job by its class name: two of one name would collide).
 */
export function refuseDuplicateClass(project: Pick<Project, "root" | "configFile">, folder: string, className: string, ownFiles: readonly string[]): void {
  const { root } = project;
  const pattern = new RegExp(`\\bclass\\s+${className}\\b`);
  const stack = [...new Set([folder, ...globFolders(project), "jobs", "mailers"])].map((dir) => join(root, dir)).filter((dir) => existsSync(dir));
  const seen = new Set<string>();
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (seen.has(current)) continue;
    seen.add(current);
    for (const entry of readdirSync(current)) {
      const path = join(current, entry);
      if (statSync(path).isDirectory()) {
        if (entry !== "node_modules") stack.push(path);
      } else if (/\.[cm]?[jt]s$/.test(entry) && !ownFiles.includes(path) && pattern.test(readFileSync(path, "utf8"))) {
        throw new CliUsageError(`class ${className} is already declared in ${relative(root, path)}; a job or mailer name must be unique (choose another name)`);
      }
    }
  }
}
