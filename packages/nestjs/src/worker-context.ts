/**
 * `nestWorkerContext`: the worker context `errand work --nest <file>[#export]` runs in. It
 * boots the app's module in a Nest application context and hands the CLI the runtime that
 * module's `ErrandModule` built, so the CLI's worker gets its jobs from Nest's container,
 * and a close that is Nest's `app.close(signal)`, so the app's shutdown hooks run.
 *
 * The app's module is imported by a small root module that also provides
 * {@link ERRAND_CLI_WORKER}: seeing it, `ErrandLifecycle` starts no worker of its own, and a
 * module whose `work` asks for one is refused (two workers in one process, one of them with
 * settings nobody passed to the CLI, would be a surprise). The root's probe injects
 * `Runtime` and the options as optional, so a module without `ErrandModule` gets a clear
 * error instead of Nest's "could not find Runtime element".
 *
 * @module
 */
import { Inject, Injectable, Module, Optional, type DynamicModule, type INestApplicationContext, type Type } from "@nestjs/common";
import { NestFactory, type NestApplicationContext } from "@nestjs/core";
import { ConfigError, Runtime, type WorkerContext, type WorkerContextFactory } from "@errand/core";
import { ERRAND_CLI_WORKER, ERRAND_MODULE_OPTIONS, type ErrandModuleOptions } from "./module.js";

/** What the root module sees of the app: the runtime and options of its ErrandModule, if any. */
@Injectable()
class ErrandWorkerProbe {
  constructor(
    @Optional() @Inject(Runtime) readonly runtime: Runtime | undefined,
    @Optional() @Inject(ERRAND_MODULE_OPTIONS) readonly options: ErrandModuleOptions | undefined,
  ) {}
}

/** The root module of the CLI's application context (global, so ErrandModule sees the token): the app's module plus the probe. */
@Module({})
class ErrandWorkerContextModule {}

/** Whether `value` is what Nest accepts as a module: a class, or a dynamic module `{ module: Class, ... }`. */
function isNestModule(value: unknown): value is Type<unknown> | DynamicModule {
  if (typeof value === "function") return true;
  return typeof value === "object" && value !== null && typeof (value as { module?: unknown }).module === "function";
}

/** A short description of a value for messages. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return `an object with keys ${Object.keys(value).join(", ") || "(none)"}`;
  return `${typeof value} ${String(value).slice(0, 40)}`;
}

/**
 * Boots `entry` (a Nest module: a `@Module()` class or a dynamic module such as
 * `AppModule.register(...)`, or a promise of one) in a Nest application context for
 * `errand work --nest`, with Nest's logger at `error` and `warn` (the worker prints its own
 * lines) and `abortOnError: false` (a module that fails to build is an error the CLI
 * reports, not a `process.abort()`).
 * @throws ConfigError when `entry` is no Nest module, when the app has no `ErrandModule`,
 *   or when its `ErrandModule` asks for a worker of its own (`work`); the app is closed first.
 */
export const nestWorkerContext: WorkerContextFactory = async (entry, { name }) => {
  const module: unknown = await entry;
  if (!isNestModule(module)) {
    throw new ConfigError(
      `${name} is not a Nest module: expected a @Module() class or a dynamic module ({ module, imports, providers }, as AppModule.register(...) returns), got ${describe(module)}`,
    );
  }
  const root: DynamicModule = {
    module: ErrandWorkerContextModule,
    global: true,
    imports: [module],
    providers: [{ provide: ERRAND_CLI_WORKER, useValue: true }, ErrandWorkerProbe],
    exports: [ERRAND_CLI_WORKER],
  };
  const app: INestApplicationContext = await NestFactory.createApplicationContext(root, { logger: ["error", "warn"], abortOnError: false });
  const { runtime, options } = app.get(ErrandWorkerProbe);
  if (runtime === undefined || options === undefined) {
    await app.close();
    throw new ConfigError(
      `${name} does not import ErrandModule (or imports another copy of @errand/nestjs than the errand CLI loads): add ErrandModule.forRoot(...) or forRootAsync(...) to its imports`,
    );
  }
  if (options.work !== undefined && options.work !== false) {
    await app.close();
    throw new ConfigError(
      `${name}: its ErrandModule starts a worker of its own (work: ${JSON.stringify(options.work)}), and errand work runs one already; set work: false (or leave it out) for this module, and give worker settings as CLI flags or in the options' worker section`,
    );
  }
  // INestApplicationContext declares close() without the signal that NestApplicationContext
  // takes (and hands to beforeApplicationShutdown / onApplicationShutdown) since Nest 10.
  const closeWith = (app as unknown as NestApplicationContext).close.bind(app);
  return { runtime, close: (signal) => closeWith(signal) } satisfies WorkerContext;
};
