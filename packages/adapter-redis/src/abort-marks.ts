/**
 * Reading the operator's marks on running jobs, as `control-mark.lua` writes them in an
 * `abort-tokens` hash — the adapter's own (`control.ts`) and the status store's
 * (`status-control.ts`): the job's lease token for an abort, `interrupt:<token>` for an
 * interrupt.
 *
 * @module
 */

/** How an interrupt mark's token is written (an abort's is the bare token). */
const INTERRUPT = "interrupt:";

/** A mark: the run it was made for (lease token) and what it asks. */
export interface AbortMark {
  token: string;
  kind: "abort" | "interrupt";
}

/** The marks of a flat `id, value, id, value…` reply, by job id. */
export function readMarks(asked: readonly string[]): Map<string, AbortMark> {
  const marks = new Map<string, AbortMark>();
  for (let i = 0; i < asked.length; i += 2) {
    const value = asked[i + 1]!;
    const interrupt = value.startsWith(INTERRUPT);
    marks.set(asked[i]!, { token: interrupt ? value.slice(INTERRUPT.length) : value, kind: interrupt ? "interrupt" : "abort" });
  }
  return marks;
}
