#!/usr/bin/env node
/**
 * The `errand` executable (`bin` of `@errand/core`). See `program.ts` for the commands.
 *
 * @module
 */
import { run } from "./program.js";

// `errand dead list | head -1` closes the pipe early: that is the reader's choice, not a crash.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await run(process.argv.slice(2));

// Every command has closed Errand's adapters by now, so the process normally exits on
// its own. Modules the config imported (a database pool in a job file) may still hold
// handles open; an unref'd timer fires only in that case, and ends the process.
setTimeout(() => process.exit(), 2000).unref();
