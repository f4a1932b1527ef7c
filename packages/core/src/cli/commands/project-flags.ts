/**
 * The flags `init` and `generate` share to override what is detected about the app
 * (`scaffold/project.ts`), and where it is.
 *
 * @module
 */
import { Option, type Command } from "commander";

import type { Language, ModuleKind, PackageManager, ProjectOverrides, TestRunner } from "../scaffold/project.js";

/** Parsed project flags. */
export interface ProjectFlags {
  /** The app's directory (default: the working directory). */
  cwd?: string;
  typescript?: boolean;
  javascript?: boolean;
  esm?: boolean;
  commonjs?: boolean;
  testRunner?: TestRunner;
  packageManager?: PackageManager;
  dir?: string;
  force?: boolean;
  test?: boolean;
}

const GENERATE_DIR = "the folder to write into, relative to the app (default: from errand.config's jobs globs, else jobs/ or mailers/)";

/** Adds the shared flags to `command`; `dirHelp` says what `--dir` is for it. */
export function projectOptions(command: Command, dirHelp = GENERATE_DIR): Command {
  return command
    .option("--cwd <dir>", "the app's directory (default: the working directory)")
    .option("--dir <folder>", dirHelp)
    .addOption(new Option("--typescript", "write TypeScript (default: detected from tsconfig.json)").conflicts("javascript"))
    .option("--javascript", "write JavaScript")
    .addOption(new Option("--esm", "write ES modules (default: detected from package.json and tsconfig.json)").conflicts("commonjs"))
    .option("--commonjs", "write CommonJS")
    .addOption(new Option("--test-runner <runner>", "the test runner of generated tests (default: detected)").choices(["vitest", "jest", "node"]))
    .addOption(new Option("--package-manager <name>", "the package manager (default: detected)").choices(["npm", "pnpm", "yarn", "bun"]))
    .option("--no-test", "write no test file")
    .option("-f, --force", "overwrite files that exist");
}

/** The overrides the flags ask for. */
export function overridesOf(flags: ProjectFlags): ProjectOverrides {
  const language: Language | undefined = flags.typescript ? "typescript" : flags.javascript ? "javascript" : undefined;
  const module: ModuleKind | undefined = flags.esm ? "esm" : flags.commonjs ? "commonjs" : undefined;
  return {
    ...(language && { language }),
    ...(module && { module }),
    ...(flags.testRunner && { testRunner: flags.testRunner }),
    ...(flags.packageManager && { packageManager: flags.packageManager }),
  };
}
