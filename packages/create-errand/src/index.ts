#!/usr/bin/env node
/**
 * `npm create errand` (and `npx create-errand`): runs `errand init` in the working
 * directory with the flags given (`npm create errand -- --backend redis`). See
 * `errand init --help` for them.
 *
 * @module
 */
import { run } from "@errand/core/cli";

process.exitCode = await run(["init", ...process.argv.slice(2)]);
