/**
 * `@errand/nestjs`: Errand in a NestJS application. `ErrandModule.forRoot(options)` (or
 * `forRootAsync`) configures Errand's runtime with Nest's DI as its `resolve` hook, so jobs
 * and mailers are providers whose constructors receive services, can start a worker in the
 * application, and closes the runtime through Nest's shutdown hooks. `nestWorkerContext` is
 * what `errand work --nest <module>` runs its worker in.
 *
 * @module
 */
export { ErrandModule, ErrandLifecycle, ERRAND_CLI_WORKER, ERRAND_MODULE_OPTIONS } from "./module.js";
export type { ErrandModuleOptions, ErrandModuleAsyncOptions, WorkInApp } from "./module.js";
export { nestResolver } from "./resolver.js";
export { nestWorkerContext } from "./worker-context.js";
