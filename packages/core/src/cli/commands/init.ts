/**
 * `errand init`: sets Errand up in an existing app in one command (also `npm create errand`,
 * or `npx @errand/core init`). It detects the app (`scaffold/project.ts`), asks for the
 * production backend when a person is at the terminal (else `--backend`, default postgres),
 * writes the config (async in development, the test adapter in tests, the backend in
 * production), an example job and its test, the Procfile's worker line and package.json
 * scripts, then installs the packages it chose with the app's package manager. Nothing that
 * exists is overwritten without `--force`; every file written is listed.
 *
 * @module
 */
import { join } from "node:path";

import { Option, type Command } from "commander";

import { CliUsageError } from "../context.js";
import { say } from "../output.js";
import { BACKENDS, backendPackages, configFileName, configLoadLine, configSource, initScripts, jobGlobs, packageJsonWithScripts, procfile, type Backend } from "../scaffold/init-files.js";
import { install, installSpecs } from "../scaffold/install.js";
import { jobSource, jobTestSource } from "../scaffold/job-templates.js";
import { folderFor } from "../scaffold/locations.js";
import { classNameOf } from "../scaffold/names.js";
import { choose, interactive } from "../scaffold/prompt.js";
import { describeProject, detectProject, type Project } from "../scaffold/project.js";
import { JEST_COMMAND, syntaxOf, testSyntaxOf } from "../scaffold/syntax.js";
import { reportLines, writeFiles, type PlannedFile } from "../scaffold/writer.js";
import { packageVersion } from "../version.js";
import { overridesOf, projectOptions, type ProjectFlags } from "./project-flags.js";

/** Options of `errand init`. */
export interface InitOptions extends ProjectFlags {
  backend?: Backend;
  /** `--no-install`. */
  install?: boolean;
  /** Install Errand's packages from the tarballs in this directory. */
  from?: string;
  /** Take the defaults without asking. */
  yes?: boolean;
}

const DEFAULT_BACKEND: Backend = "postgres";

/** The test script init adds when the app has none: the runner's own command. */
function testScript(project: Project): string | undefined {
  if (project.testRunner === "vitest") return "vitest run";
  if (project.testRunner === "jest") return JEST_COMMAND;
  // Node 20's `node --test` finds only JavaScript test files; TypeScript ones are named
  // one by one (the printed command), so no script guesses a glob for them.
  return project.language === "javascript" ? "node --test" : undefined;
}

function missing(project: Project, names: readonly string[]): string[] {
  const { dependencies = {}, devDependencies = {} } = project.packageJson;
  return names.filter((name) => dependencies[name] === undefined && devDependencies[name] === undefined);
}

/** Runs `errand init`; see the module comment. */
export async function init(options: InitOptions): Promise<void> {
  const project = detectProject(options.cwd ?? process.cwd(), overridesOf(options));
  const configName = configFileName(project);
  if (project.configFile && (!options.force || project.configFile !== configName)) {
    throw new CliUsageError(
      options.force
        ? `${project.configFile} is there and init would write ${configName}: remove ${project.configFile} first (both would be found)`
        : `${project.configFile} already exists: Errand is set up here (errand generate adds jobs); nothing was written (use --force to write it again)`,
    );
  }
  const backend = options.backend ?? (interactive() && !options.yes ? await choose("Which backend runs your jobs in production?", BACKENDS, DEFAULT_BACKEND) : DEFAULT_BACKEND);
  const syntax = syntaxOf(project);
  const test = testSyntaxOf(project.testRunner);
  const jobsDir = options.dir === undefined ? "jobs" : folderFor("job", { root: project.root, configFile: undefined }, options.dir);
  const example = { name: classNameOf("Hello", "Job", "job"), example: true };
  const jobFile = join(jobsDir, `${example.name.fileBase}${syntax.ext}`);
  const testFile = join(jobsDir, `${example.name.fileBase}.test${syntax.ext}`);
  const scripts = packageJsonWithScripts(project.root, initScripts(testScript(project)));
  // What to install is settled (and a bad --from refused) before the first file is written.
  const wanted = ["@errand/core", "@errand/adapter-async", ...backendPackages(backend), ...(syntax.typescript ? ["tsx"] : [])];
  const specs = installSpecs(missing(project, wanted), packageVersion(), options.from);
  const files: PlannedFile[] = [
    { path: configName, content: configSource(project, backend, jobGlobs(jobsDir, "mailers", syntax), configLoadLine(configName, syntax)) },
    { path: jobFile, content: jobSource(example, syntax) },
    ...(options.test === false ? [] : [{ path: testFile, content: jobTestSource(example, syntax, test) }]),
    ...[procfile(project.root)].filter((file): file is PlannedFile => file !== undefined),
    scripts.file,
  ];
  const written = writeFiles(project.root, files, { force: options.force === true });

  say(`Errand for ${project.name} (${describeProject(project)}); production backend: ${backend}`);
  for (const note of project.notes) say(`  note      ${note}`);
  for (const line of reportLines(written)) say(line);
  if (scripts.added.length > 0) say(`  scripts   ${scripts.added.join(", ")} added to package.json`);
  if (scripts.kept.length > 0) say(`  scripts   ${scripts.kept.join(", ")} already in package.json, kept as they are`);

  if (options.install === false) {
    if (specs.length > 0) say(`Install: ${specs.join(" ")} (skipped: --no-install)`);
  } else {
    const command = await install(project.root, project.packageManager, specs);
    if (command) say(`  install   ${command}`);
  }

  say("Next:");
  if (options.test !== false) say(`  ${test.command(testFile, syntax)}    run the example job's test`);
  say(`  at the app's start: ${configLoadLine(configName, syntax)}`);
  say("  npx errand generate job GuestsCleanup    add a job (and its test)");
  say(`  NODE_ENV=production npx errand doctor    check the ${backend} setup`);
  say("  NODE_ENV=production npx errand work      run a worker (the Procfile's worker line)");
}

/** Adds `init` to the program. */
export function registerInit(program: Command): void {
  projectOptions(
    program
      .command("init")
      .description("set Errand up in this app: config, an example job and its test, Procfile line, scripts, packages")
      .addOption(new Option("-b, --backend <name>", `the production backend (default: asked at a terminal, else ${DEFAULT_BACKEND})`).choices(BACKENDS))
      .option("--no-install", "write the files only; print the install command")
      .option("--from <dir>", "install Errand's packages from the .tgz files npm pack wrote in <dir>")
      .option("-y, --yes", "take the defaults without asking"),
    "the folder of the example job, relative to the app (default: jobs)",
  ).action((options: InitOptions) => init(options));
}
