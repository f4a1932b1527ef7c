/**
 * The runtime: the configuration in force, the job registry, the adapters built from
 * it, and the event bus. `configure(config)` installs one for the process; `Job` and the
 * CLI use it through {@link currentRuntime}.
 *
 * The current runtime is kept on `globalThis` under a registered symbol, so two copies
 * of `@errand/core` in one process (a bundler, a TypeScript loader) share it.
 *
 * @module
 */
import { AdapterClient } from "./backends/client.js";
import type { AdapterKind, AdapterSetting, ErrandConfig, WorkerSettings } from "./config/define.js";
import { createAdapter } from "./backends/resolve.js";
import { currentEnvironment, settingFor, settingFromUrl } from "./config/environment.js";
import { importJobModules } from "./config/load.js";
import { validateConfig } from "./config/schema.js";
import { ConfigError } from "./errors.js";
import { TypedEmitter, type ErrandEvents } from "./events.js";
import { Instrumentations, type Instrumentation } from "./instrumentation.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy, validateWait } from "./job/exceptions.js";
import { isJobClass } from "./job-mark.js";
import { JobRegistry } from "./registry.js";
import type { MailerConstructor } from "./mailer/message.js";
import { isMailerClass, registerMailer } from "./mailer/registry.js";
import type { Worker } from "./worker/worker.js";

export { isJobClass, isJobSubclass, markJobBase } from "./job-mark.js";

/** The configuration, registry, adapters and events of one Errand setup. */
export class Runtime {
  /** The configuration as given. */
  readonly config: ErrandConfig;
  /** App name for gids. */
  readonly app: string;
  /** Environment name in force. */
  readonly environment: string;
  /** Every event Errand emits. */
  readonly events = new TypedEmitter<ErrandEvents>();
  /** Job classes that may run. */
  readonly registry = new JobRegistry();
  /** Hooks around enqueue and perform (`config.instrumentation`, {@link Runtime.instrument}). */
  readonly instrumentation = new Instrumentations();
  /** Policy for errors no rule matches. */
  readonly retryPolicy: RetryPolicy;
  /** The config's `resolve` hook: builds job and mailer instances with the app's container. */
  readonly resolve: ErrandConfig["resolve"];
  private readonly adapters = new Map<string, Promise<AdapterClient>>();
  private readonly workers = new Set<Worker>();
  private jobsLoaded: Promise<void> | undefined;
  private closed = false;

  /** @throws ConfigError for an unknown key or a value of the wrong kind, naming it. */
  constructor(config: ErrandConfig = {}) {
    validateConfig(config);
    this.config = config;
    this.app = config.app ?? "errand";
    this.environment = config.environment ?? currentEnvironment();
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...config.retry };
    this.resolve = config.resolve;
    validateWait(this.retryPolicy.wait, "retry.wait");
    this.registry.registerBuiltins();
    for (const entry of config.jobs ?? []) if (typeof entry === "function") this.registry.register(entry);
    if (config.mailers) registerMailer(...(config.mailers as MailerConstructor[]));
    for (const instrumentation of config.instrumentation ?? []) this.instrumentation.add(instrumentation);
  }

  /**
   * Registers an instrumentation (`@errand/opentelemetry`'s, or your own) for every enqueue
   * and perform of this runtime from now on, adapters already built included. Returns a
   * function that removes it.
   */
  instrument(instrumentation: Instrumentation): () => void {
    return this.instrumentation.add(instrumentation);
  }

  /** Worker settings from config. */
  get workerSettings(): WorkerSettings {
    return this.config.worker ?? {};
  }

  /** Applies `queueNamePrefix` to a queue name. */
  queueName(name: string): string {
    const prefix = this.config.queueNamePrefix;
    if (!prefix) return name;
    const delimiter = this.config.queueNameDelimiter ?? "_";
    return name.startsWith(prefix + delimiter) ? name : `${prefix}${delimiter}${name}`;
  }

  /** Imports the modules named by `jobs` globs and registers their job and mailer classes (once). */
  loadJobs(): Promise<void> {
    this.jobsLoaded ??= (async () => {
      const patterns = (this.config.jobs ?? []).filter((entry): entry is string => typeof entry === "string");
      if (patterns.length === 0) return;
      const isJobOrMailer = (value: unknown): value is Function => isJobClass(value) || isMailerClass(value);
      const classes = await importJobModules(patterns, this.config.root ?? process.cwd(), isJobOrMailer);
      this.registry.register(...classes.filter(isJobClass));
      registerMailer(...classes.filter(isMailerClass));
    })();
    return this.jobsLoaded;
  }

  /**
   * The adapter for a job class pinned to `name`, or the default adapter. Built on first
   * use; an adapter with an embedded pool (async) starts its worker then.
   */
  adapterFor(name?: string): Promise<AdapterClient> {
    const key = name ?? "";
    let client = this.adapters.get(key);
    if (!client) {
      if (this.closed) return Promise.reject(new ConfigError("this Errand runtime is closed"));
      client = this.buildAdapter(name);
      this.adapters.set(key, client);
      client.catch(() => this.adapters.delete(key));
    }
    return client;
  }

  private async buildAdapter(name: string | undefined): Promise<AdapterClient> {
    let what: string;
    let setting: AdapterSetting;
    if (name === undefined) {
      const url = process.env.ERRAND_URL;
      what = url ? "ERRAND_URL" : "adapter";
      setting = url ? settingFromUrl(url) : settingFor(this.config.adapter ?? "async", this.environment, "adapter");
    } else {
      what = `adapters.${name}`;
      const named = this.config.adapters?.[name];
      if (named !== undefined) setting = settingFor(named, this.environment, what);
      else if (["async", "inline", "test", "redis", "postgres", "sqs"].includes(name)) setting = name as AdapterKind;
      else throw new ConfigError(`a job is pinned to adapter "${name}", which is not in config.adapters`);
    }
    const adapter = await createAdapter(setting, this, what);
    const client = new AdapterClient(adapter, this.events, this.instrumentation);
    // `close()` may run while this build awaits: it stops the workers it knows of and closes
    // the clients built so far. After each await the build looks again, and a runtime
    // closed meanwhile gets no worker (it would poll a closed client forever); what was
    // built is closed and the build rejects.
    try {
      this.refuseIfClosed(what);
      if (adapter.capabilities.embeddedWorker && this.workerSettings.embedded !== false) {
        // Imported here, where the one embedded pool starts: the worker module imports this
        // one (for `currentRuntime`), so a static import would be a cycle.
        const { Worker } = await import("./worker/worker.js");
        this.refuseIfClosed(what);
        const worker = new Worker({ runtime: this, client, adapter: name, queues: this.workerSettings.queues ?? "*", workerId: `embedded:${process.pid}`, keepAlive: false });
        await worker.start();
        if (this.closed) await worker.stop();
        this.refuseIfClosed(what);
        this.workers.add(worker);
      }
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }

  private refuseIfClosed(what: string): void {
    if (this.closed) throw new ConfigError(`this Errand runtime was closed while ${what} was being built`);
  }

  /**
   * Builds the default adapter now instead of at the first enqueue; for the async adapter
   * that starts the in-process pool with the app, as Rails does, so the first request does
   * not pay for it.
   */
  async start(): Promise<void> {
    await this.adapterFor();
  }

  /** Adapters built so far (for status and admin commands). */
  async builtAdapters(): Promise<AdapterClient[]> {
    return Promise.all(this.adapters.values());
  }

  /** @internal keeps track of workers so `close` stops them. */
  trackWorker(worker: Worker): () => void {
    this.workers.add(worker);
    return () => this.workers.delete(worker);
  }

  /** Stops workers started by this runtime (gracefully) and closes its adapters. */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.workers].map((worker) => worker.stop(options)));
    const clients = await Promise.allSettled(this.adapters.values());
    await Promise.all(clients.map((c) => (c.status === "fulfilled" ? c.value.close() : undefined)));
    this.adapters.clear();
    if (current() === this) setCurrent(undefined);
  }
}

const CURRENT = Symbol.for("errand.runtime");
type Holder = { [CURRENT]?: Runtime };

function current(): Runtime | undefined {
  return (globalThis as Holder)[CURRENT];
}

function setCurrent(runtime: Runtime | undefined): void {
  (globalThis as Holder)[CURRENT] = runtime;
}

/**
 * Installs the configuration for this process and returns its runtime. Call it once at
 * boot with the object your `errand.config.ts` exports. A later call replaces the
 * runtime (close the old one first if it started workers).
 */
export function configure(config: ErrandConfig = {}): Runtime {
  const runtime = new Runtime(config);
  setCurrent(runtime);
  return runtime;
}

/** The runtime in force; a default one (async adapter, or `ERRAND_URL`) when `configure` was never called. */
export function currentRuntime(): Runtime {
  let runtime = current();
  if (!runtime) {
    runtime = new Runtime({});
    setCurrent(runtime);
  }
  return runtime;
}
