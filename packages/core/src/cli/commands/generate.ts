/**
 * `errand generate job GuestsCleanup [--queue low]` and `errand generate mailer User welcome
 * goodbye`: a job or mailer file and its test, written for the app's language, module
 * system and test runner (`scaffold/project.ts`); the test passes as generated. Names are
 * checked, and an existing file or class of the same name is an error (`--force` overwrites
 * the files).
 *
 * @module
 */
import { join } from "node:path";

import type { Command } from "commander";

import { classNameOf, mailMethodsOf, queueNameOf, type ClassName } from "../scaffold/names.js";
import { folderFor, refuseDuplicateClass } from "../scaffold/locations.js";
import { jobSource, jobTestSource } from "../scaffold/job-templates.js";
import { mailerSource, mailerTestSource } from "../scaffold/mailer-templates.js";
import { describeProject, detectProject, type Project, type ProjectOverrides } from "../scaffold/project.js";
import { syntaxOf, testSyntaxOf, type Syntax, type TestSyntax } from "../scaffold/syntax.js";
import { reportLines, writeFiles, type PlannedFile } from "../scaffold/writer.js";
import { say } from "../output.js";
import { projectOptions, overridesOf, type ProjectFlags } from "./project-flags.js";

/** Options shared by the generators. */
export interface GenerateOptions extends ProjectFlags {
  /** The folder to write into (default: from the config's `jobs` globs). */
  dir?: string;
  /** Overwrite existing files. */
  force?: boolean;
  /** `--no-test`: write no test file. */
  test?: boolean;
}

/** Options of `errand generate job`. */
export interface GenerateJobOptions extends GenerateOptions {
  queue?: string;
}

function finish(project: Project, title: string, files: PlannedFile[], options: GenerateOptions): void {
  const written = writeFiles(project.root, files, { force: options.force === true });
  say(`${title} (${describeProject(project)}):`);
  for (const note of project.notes) say(`  note      ${note}`);
  for (const line of reportLines(written)) say(line);
  const test = files[1];
  if (test) say(`Run its test: ${testSyntaxOf(project.testRunner).command(test.path, syntaxOf(project))}`);
}

/** A class and its test, from their templates. */
interface Generated {
  kind: "job" | "mailer";
  name: ClassName;
  source: (syntax: Syntax) => string;
  testSource: (syntax: Syntax, test: TestSyntax) => string;
}

/** Plans the class's file and its test's in the folder for its kind, refuses clashes, writes and reports. */
function generate({ kind, name, source, testSource }: Generated, options: GenerateOptions, overrides: ProjectOverrides): void {
  const project = detectProject(options.cwd ?? process.cwd(), overrides);
  const syntax = syntaxOf(project);
  const folder = folderFor(kind, project, options.dir);
  const files: PlannedFile[] = [{ path: join(folder, `${name.fileBase}${syntax.ext}`), content: source(syntax) }];
  if (options.test !== false) files.push({ path: join(folder, `${name.fileBase}.test${syntax.ext}`), content: testSource(syntax, testSyntaxOf(project.testRunner)) });
  refuseDuplicateClass(project, folder, name.className, files.map((file) => join(project.root, file.path)));
  finish(project, name.className, files, options);
}

/** Writes a job and its test; see the module comment. */
export function generateJob(name: string, options: GenerateJobOptions, overrides: ProjectOverrides = overridesOf(options)): void {
  const input = { name: classNameOf(name, "Job", "job"), queue: options.queue === undefined ? undefined : queueNameOf(options.queue) };
  generate({ kind: "job", name: input.name, source: (syntax) => jobSource(input, syntax), testSource: (syntax, test) => jobTestSource(input, syntax, test) }, options, overrides);
}

/** Writes a mailer with `methods` and its test; see the module comment. */
export function generateMailer(name: string, methods: readonly string[], options: GenerateOptions, overrides: ProjectOverrides = overridesOf(options)): void {
  const input = { name: classNameOf(name, "Mailer", "mailer"), methods: mailMethodsOf(methods) };
  generate({ kind: "mailer", name: input.name, source: (syntax) => mailerSource(input, syntax), testSource: (syntax, test) => mailerTestSource(input, syntax, test) }, options, overrides);
}

/** Adds `generate` (alias `g`) with its `job` and `mailer` subcommands to the program. */
export function registerGenerate(program: Command): void {
  const generate = program.command("generate").alias("g").description("write a job or a mailer, with its test, into the app");
  projectOptions(
    generate
      .command("job")
      .description("write a job and its test: errand generate job GuestsCleanup --queue low")
      .argument("<name>", "the job's name (GuestsCleanup, guests_cleanup); the class is GuestsCleanupJob")
      .option("-q, --queue <name>", "the job's queue (default: default)"),
  ).action((name: string, options: GenerateJobOptions) => generateJob(name, options));
  projectOptions(
    generate
      .command("mailer")
      .description("write a mailer with its mail methods and its test: errand generate mailer User welcome goodbye")
      .argument("<name>", "the mailer's name (User); the class is UserMailer")
      .argument("<methods...>", "its mail methods (welcome, password_reset)"),
  ).action((name: string, methods: string[], options: GenerateOptions) => generateMailer(name, methods, options));
}
