/**
 * `@errand/opentelemetry`: OpenTelemetry traces and metrics for Errand jobs.
 *
 * @example
 * import { defineConfig } from "@errand/core";
 * import { errandInstrumentation } from "@errand/opentelemetry";
 * // Start the OpenTelemetry SDK first (NodeSDK, or providers of your own).
 * export default defineConfig({ adapter: "redis", instrumentation: [errandInstrumentation()] });
 *
 * @module
 */
export { errandInstrumentation } from "./instrumentation.js";
export type { ErrandInstrumentationOptions } from "./instrumentation.js";
export * from "./names.js";
