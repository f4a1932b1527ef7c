/**
 * Named steps within one time budget, for a browser scenario whose steps each wait for
 * something: each step gets what is left of the budget as its deadline, and a step that
 * overruns fails naming itself and the time every earlier step took. The budget is set
 * under the test's timeout, so a slow run fails here, saying where the time went, and
 * not with vitest's "Test timed out", which names no step; a step's own failure (an
 * assertion) gets its name too (what two CI runs got under load
 * on 2026-12-04: the pause scenario's steps had 20 s deadlines each inside a 30 s test).
 */

/** Runs one step: `run` gets the milliseconds left, for the deadlines of what it waits on. */
export type Step = <T>(name: string, run: (timeoutMs: number) => Promise<T>) => Promise<T>;

/** Steps sharing `budgetMs`, counted from this call. */
export function steps(budgetMs: number): Step {
  const started = Date.now();
  const done: string[] = [];
  return async (name, run) => {
    const begun = Date.now();
    const left = budgetMs - (begun - started);
    const before = () => (done.length > 0 ? done.join(", ") : "none");
    if (left <= 0) throw new Error(`no time left for step "${name}" of the ${budgetMs} ms budget; steps before: ${before()}`);
    let timer: NodeJS.Timeout | undefined;
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`step "${name}" did not finish in the ${left} ms left of the ${budgetMs} ms budget; steps before: ${before()}`)), left);
    });
    try {
      return await Promise.race([run(left), overrun]);
    } catch (error) {
      // The step's own failure (an assertion, a waitFor deadline) says which step it was too.
      if (error instanceof Error && !error.message.startsWith(`step "${name}"`)) error.message = `step "${name}": ${error.message}; steps before: ${before()}`;
      throw error;
    } finally {
      clearTimeout(timer);
      done.push(`${name} ${Date.now() - begun} ms`);
    }
  };
}
