// What every bench's results JSON records about the machine it ran on, and the one
// callgrind reading the instruction benches share.
import { execFile } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { promisify } from "node:util";

/** Date, Node, platform, CPUs and memory: the head of every results file. */
export function machineFacts() {
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
  };
}

/** Instructions callgrind charged to V8's optimizing compiler (`v8::internal::compiler::…`) in `file`. */
export async function compilerInstructions(file: string): Promise<number> {
  const { stdout } = await promisify(execFile)("callgrind_annotate", ["--inclusive=no", "--threshold=100", file], { maxBuffer: 64 * 1024 * 1024 });
  let total = 0;
  for (const line of stdout.split("\n")) {
    const match = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (match && match[2]!.includes("v8::internal::compiler::")) total += Number(match[1]!.replace(/,/g, ""));
  }
  return total;
}
