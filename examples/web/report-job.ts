/**
 * `ReportJob`: the second page's slow work, a monthly sales report built in five steps,
 * each reported as progress ("2/5 matching refunds"), returning a small table.
 *
 * Each step waits on {@link reportPacing} (default 700 ms, `REPORT_STEP_MS` overrides it),
 * standing in for the slow queries of a real report; tests replace it to hold a report at a
 * step of their choosing.
 */
import { setTimeout as delay } from "node:timers/promises";

import { discardOn, Job, queueAs } from "@errand/core";

/** The report's steps, in order; each one is a progress message. */
export const REPORT_STEPS = ["loading orders", "matching refunds", "grouping by region", "totalling", "formatting"] as const;

/** A month that is not `YYYY-MM`; discarded, since a retry would fail the same way. */
export class BadMonthError extends Error {
  override name = "BadMonthError";
}

/** What `ReportJob` returns: a table ready to show. */
export interface SalesReport {
  month: string;
  columns: string[];
  rows: (string | number)[][];
}

function stepMsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.REPORT_STEP_MS ?? "700";
  if (!/^\d+$/.test(raw) || Number(raw) > 60_000) throw new TypeError(`REPORT_STEP_MS must be a whole number of milliseconds up to 60000, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** How a report waits before each step; replace `beforeStep` to pace reports yourself. */
export const reportPacing = {
  stepMs: stepMsFromEnv(),
  /** Awaited before step `index` (0-based) runs. */
  beforeStep(_index: number, signal: AbortSignal): Promise<void> {
    return delay(reportPacing.stepMs, undefined, { signal });
  },
};

/** `YYYY-MM`, or a `BadMonthError` naming the input. */
export function parseMonth(input: unknown): string {
  if (typeof input !== "string" || !/^\d{4}-(0[1-9]|1[0-2])$/.test(input)) {
    throw new BadMonthError(`month must look like 2025-10, got ${JSON.stringify(input)}`);
  }
  return input;
}

const REGIONS = ["North", "East", "South", "West"];

/** Builds the sales report of a month (`YYYY-MM`) in {@link REPORT_STEPS}, reporting each. */
@queueAs("reports")
@discardOn(BadMonthError)
export class ReportJob extends Job<[month: string], SalesReport> {
  async perform(input: string): Promise<SalesReport> {
    const month = parseMonth(input);
    for (const [index, step] of REPORT_STEPS.entries()) {
      await reportPacing.beforeStep(index, this.signal);
      this.progress((index + 1) / REPORT_STEPS.length, `${index + 1}/${REPORT_STEPS.length} ${step}`);
    }
    // Deterministic figures: the same month gives the same table.
    const seed = Number(month.slice(0, 4)) * 12 + Number(month.slice(5));
    const rows = REGIONS.map((region, index) => {
      const orders = 40 + ((seed * (index + 3)) % 61);
      return [region, orders, orders * (1900 + index * 150)];
    });
    const orders = rows.reduce((sum, row) => sum + (row[1] as number), 0);
    const cents = rows.reduce((sum, row) => sum + (row[2] as number), 0);
    const euros = (value: number) => (value / 100).toFixed(2);
    return {
      month,
      columns: ["region", "orders", "revenue (€)"],
      rows: [...rows.map(([region, count, revenue]) => [region!, count!, euros(revenue as number)]), ["total", orders, euros(cents)]],
    };
  }
}
