/**
 * Questions `errand init` asks when a person is at the terminal (stdin and stdout both a
 * TTY, and no `--yes`); in CI and scripts the flags and defaults decide, and nothing waits
 * for input.
 *
 * @module
 */
import { createInterface } from "node:readline";

import { CliUsageError } from "../context.js";

/** Whether to ask: a terminal on both ends. */
export function interactive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

/**
 * Asks to pick one of `choices` (by number or name); an empty answer takes `fallback`.
 * Asks again after an answer that is neither.
 */
export async function choose<T extends string>(question: string, choices: readonly T[], fallback: T): Promise<T> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  // Lines are read from the interface's iterator, which buffers them: answers typed (or
  // pasted) ahead of a question are kept for it, where `rl.question` would drop them.
  const lines = rl[Symbol.asyncIterator]();
  try {
    const menu = choices.map((choice, index) => `  ${index + 1}) ${choice}${choice === fallback ? " (default)" : ""}`).join("\n");
    for (;;) {
      process.stdout.write(`${question}\n${menu}\n> `);
      const next = await lines.next();
      if (next.done) throw new CliUsageError(`no answer to "${question}" (the input ended); give it as a flag instead`);
      const answer = next.value.trim().toLowerCase();
      if (answer === "") return fallback;
      const byNumber = choices[Number(answer) - 1];
      if (/^\d+$/.test(answer) && byNumber) return byNumber;
      const byName = choices.find((choice) => choice === answer);
      if (byName) return byName;
      process.stdout.write(`Please answer 1-${choices.length} or a name.\n`);
    }
  } finally {
    rl.close();
  }
}
