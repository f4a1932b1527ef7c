/**
 * Finding and loading `errand.config.{ts,mts,mjs,js}`, and importing job modules named
 * by globs. TypeScript files load through tsx's loader (an optional peer dependency),
 * registered once for the process so a config and the app share module instances.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { dirname, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";

import { glob } from "tinyglobby";

import { ConfigError } from "../errors.js";
import type { ErrandConfig } from "./define.js";
import { validateConfig } from "./schema.js";

/** File names looked for in the working directory, in order. */
export const CONFIG_FILES = ["errand.config.ts", "errand.config.mts", "errand.config.mjs", "errand.config.js"] as const;

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Explicit config file (`--config`); relative to `cwd`. */
  path?: string;
  /** Where to look. Default `process.cwd()`. */
  cwd?: string;
}

let tsLoaderRegistered: Promise<void> | undefined;

async function registerTsLoader(forFile: string): Promise<void> {
  tsLoaderRegistered ??= (async () => {
    let api: { register: () => unknown };
    try {
      api = (await import("tsx/esm/api")) as { register: () => unknown };
    } catch {
      tsLoaderRegistered = undefined;
      throw new ConfigError(
        `${forFile} is TypeScript: install tsx to load it (\`npm install --save-dev tsx\`), or compile it and point --config at the .js file`,
      );
    }
    api.register();
  })();
  return tsLoaderRegistered;
}

const TS_EXTENSIONS = new Set([".ts", ".mts", ".cts", ".tsx"]);

/** Imports a module file, JavaScript or TypeScript. */
export async function importFile(file: string): Promise<Record<string, unknown>> {
  if (TS_EXTENSIONS.has(extname(file))) await registerTsLoader(file);
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

/**
 * The config file `options` name: `path` (resolved against `cwd`), else the first of
 * {@link CONFIG_FILES} in `cwd`; `undefined` when there is none.
 * @throws ConfigError when an explicit file is missing.
 */
export function findConfigFile(options: LoadConfigOptions = {}): string | undefined {
  const cwd = options.cwd ?? process.cwd();
  if (options.path) {
    const file = resolve(cwd, options.path);
    if (!existsSync(file)) throw new ConfigError(`config file ${options.path} not found (looked at ${file})`);
    return file;
  }
  return CONFIG_FILES.map((name) => resolve(cwd, name)).find((candidate) => existsSync(candidate));
}

/**
 * Imports a config file and returns the object it exports, not yet validated, with `root`
 * set to the file's directory (unless it sets one).
 * @throws ConfigError when the file exports no object.
 */
export async function importConfigFile(file: string): Promise<ErrandConfig> {
  const module = await importFile(file);
  const config = (module.default ?? module.config) as ErrandConfig | undefined;
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new ConfigError(`${file} must default-export defineConfig({...})`);
  }
  return { ...config, root: config.root ?? dirname(file) };
}

/**
 * Loads the config file given by `path`, or the first of {@link CONFIG_FILES} in `cwd`.
 * Without either, returns `{}` (defaults, `ERRAND_URL`). Sets `root` to the file's directory.
 * @throws ConfigError when an explicit file is missing, exports no object, or the object has an unknown key or a bad value.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ErrandConfig> {
  const file = findConfigFile(options);
  if (!file) return { root: options.cwd ?? process.cwd() };
  const config = await importConfigFile(file);
  validateConfig(config, file);
  return config;
}

/**
 * Imports the modules matched by job globs and returns every exported job class.
 * `isJobClass` decides what counts (core passes a check against `Job`). A CommonJS file's
 * `module.exports` arrives as `default`; the values of a plain `default` object count too,
 * as Node names a CommonJS file's exports only when it can spot them in the source
 * (`module.exports = { ReportJob }` yes, `module.exports = jobs` no).
 */
export async function importJobModules(
  patterns: readonly string[],
  root: string,
  isJobClass: (value: unknown) => value is Function,
): Promise<Function[]> {
  const files = await glob([...patterns], { cwd: root, absolute: true, onlyFiles: true });
  if (files.length === 0) throw new ConfigError(`jobs: ${patterns.join(", ")} matched no files under ${root}`);
  const classes = new Set<Function>();
  for (const file of files.sort()) {
    const module = await importFile(file);
    const fromDefault = isPlainObject(module.default) ? Object.values(module.default) : [];
    for (const value of [...Object.values(module), ...fromDefault]) if (isJobClass(value)) classes.add(value);
  }
  return [...classes];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
