/**
 * `ErrandModule`: Errand's runtime as a global Nest module.
 *
 * Lifecycle: the `Runtime` provider is built when Nest builds the module (from the options,
 * with {@link nestResolver} as the config's `resolve` hook, installed as the process's
 * runtime); on `onApplicationBootstrap` a worker starts when `work` asks for one (its
 * jobs built by Nest's DI), unless `errand work --nest` booted the app and runs the worker
 * itself ({@link ERRAND_CLI_WORKER} is provided); on `beforeApplicationShutdown` (Nest's
 * `close()`, or a signal once `app.enableShutdownHooks()` is on; after `onModuleDestroy`, before
 * `onApplicationShutdown`) the runtime closes: its workers stop fetching, running
 * jobs get the grace period to finish, the rest are handed back, adapters close.
 *
 * @module
 */
import { Global, Inject, Injectable, Module, Optional, type DynamicModule, type InjectionToken, type ModuleMetadata, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OptionalFactoryDependency, type Provider } from "@nestjs/common";
import { ModuleRef } from "@nestjs/core";
import { configure, ConfigError, Runtime, toMs, Worker, type Duration, type ErrandConfig, type WorkerOptions } from "@errand/core";
import { nestResolver } from "./resolver.js";

/** A worker to run inside the application: `true` for one with the config's `worker` settings. */
export type WorkInApp = boolean | Pick<WorkerOptions, "adapter" | "queues" | "concurrency" | "prefetch" | "lease" | "pollInterval" | "shutdownGrace" | "recurring" | "workerId">;

/** {@link ErrandModule.forRoot}'s options: Errand's config (the module supplies `resolve`) and `work`. */
export interface ErrandModuleOptions extends Omit<ErrandConfig, "resolve"> {
  /**
   * Start a worker when the application boots, stopped gracefully when it shuts down.
   * Default false (the app only enqueues; `errand work` or a worker entry runs the jobs).
   */
  work?: WorkInApp;
}

/** {@link ErrandModule.forRootAsync}'s options: the options from a factory with injected dependencies. */
export interface ErrandModuleAsyncOptions {
  /** Modules whose providers the factory injects (a `ConfigModule`). */
  imports?: ModuleMetadata["imports"];
  /** What the factory receives, in order. */
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  /** Builds the options. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  useFactory: (...args: any[]) => ErrandModuleOptions | Promise<ErrandModuleOptions>;
}

const ASYNC_KEYS = new Set(["imports", "inject", "useFactory"]);

/** The token of the module's options. */
export const ERRAND_MODULE_OPTIONS = Symbol.for("errand.nestjs.options");

/**
 * Provided when the worker belongs to `errand work --nest` (see `nestWorkerContext`):
 * `ErrandModule` then starts none of its own, whatever `work` says.
 */
export const ERRAND_CLI_WORKER = Symbol.for("errand.nestjs.cli-worker");

/** Builds the runtime from the options, with Nest's DI as its `resolve` hook. */
function runtimeFrom(options: ErrandModuleOptions, moduleRef: ModuleRef): Runtime {
  if (typeof options !== "object" || options === null) throw new ConfigError(`ErrandModule options must be an object, got ${String(options)}`);
  if ("resolve" in options) throw new ConfigError("ErrandModule options have a resolve hook: the module supplies it (Nest's DI builds jobs and mailers); leave it out");
  const { work: _work, ...config } = options;
  return configure({ ...config, resolve: nestResolver(moduleRef) });
}

/** Starts the worker `work` asks for and closes the runtime at shutdown. */
@Injectable()
export class ErrandLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private worker: Worker | undefined;

  constructor(
    @Inject(ERRAND_MODULE_OPTIONS) private readonly options: ErrandModuleOptions,
    @Inject(Runtime) private readonly runtime: Runtime,
    @Optional() @Inject(ERRAND_CLI_WORKER) private readonly cliWorker: boolean | undefined,
  ) {}

  /** Starts the worker of `work`, if any (none under `errand work --nest`, which runs its own). */
  async onApplicationBootstrap(): Promise<void> {
    const work = this.options.work;
    if (work === undefined || work === false || this.cliWorker) return;
    this.worker = new Worker({ ...(work === true ? {} : work), runtime: this.runtime });
    await this.worker.start();
  }

  /**
   * Closes the runtime: workers stop within their grace period, adapters close. Before
   * `onApplicationShutdown`, so the app's services a job uses and close there are still open.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const grace: Duration | undefined = typeof this.options.work === "object" ? this.options.work.shutdownGrace : undefined;
    await this.runtime.close(grace === undefined ? {} : { graceMs: toMs(grace) });
  }

  /** The worker started in the application, if `work` asked for one. */
  get appWorker(): Worker | undefined {
    return this.worker;
  }
}

/**
 * Errand for a Nest application (global: import it once, in the root module). Provides
 * `Runtime` (inject it to reach adapters or events). Jobs and mailers are ordinary
 * providers: `@Injectable({ scope: Scope.TRANSIENT })` classes extending `Job` (or
 * `@Injectable()` extending `Mailer`) listed in a module's `providers`, their constructor
 * services injected when a worker runs them.
 * @example
 * \@Module({ imports: [ErrandModule.forRoot({ adapter: "redis", work: true })], providers: [WelcomeJob, UsersService] })
 * export class AppModule {}
 */
@Global()
@Module({})
export class ErrandModule {
  /** The module with fixed options. */
  static forRoot(options: ErrandModuleOptions): DynamicModule {
    return ErrandModule.withOptions({ provide: ERRAND_MODULE_OPTIONS, useValue: options }, []);
  }

  /** The module with options from a factory (`inject`ed from `imports`). */
  static forRootAsync(options: ErrandModuleAsyncOptions): DynamicModule {
    if (typeof options?.useFactory !== "function") throw new ConfigError("ErrandModule.forRootAsync needs useFactory, a function returning the options");
    // Nest's other async shapes (useClass, useExisting) are not supported: refused, not ignored.
    for (const key of Object.keys(options)) {
      if (!ASYNC_KEYS.has(key)) throw new ConfigError(`ErrandModule.forRootAsync: unknown option "${key}" (known: ${[...ASYNC_KEYS].join(", ")})`);
    }
    return ErrandModule.withOptions({ provide: ERRAND_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }, options.imports ?? []);
  }

  private static withOptions(optionsProvider: Provider, imports: NonNullable<ModuleMetadata["imports"]>): DynamicModule {
    return {
      module: ErrandModule,
      global: true,
      imports,
      providers: [
        optionsProvider,
        { provide: Runtime, useFactory: runtimeFrom, inject: [ERRAND_MODULE_OPTIONS, ModuleRef] },
        ErrandLifecycle,
      ],
      exports: [Runtime, ERRAND_MODULE_OPTIONS],
    };
  }
}
