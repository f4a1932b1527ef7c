/**
 * The configuration file's shape. `errand.config.ts` (or `.mjs`/`.js`) default-exports
 * `defineConfig({...})`; the app passes the same object to `configure()` at boot and the
 * `errand` CLI loads it, so both sides agree.
 *
 * @module
 */
import type { Adapter } from "../adapter/contract.js";
import type { Duration } from "../duration.js";
import type { Instrumentation } from "../instrumentation.js";
import type { RetryPolicy } from "../job/exceptions.js";
import type { JobClass } from "../job/job.js";
import type { MailerClass } from "../mailer/mailer.js";
import type { MailSettings } from "../mailer/transport.js";
import type { Outbox } from "../transactions/outbox.js";
import type { JobConstructor, RecurringTask } from "../recurring/config.js";
import { validateConfig } from "./schema.js";

/** Adapters Errand knows by name. */
export type AdapterKind = "async" | "inline" | "test" | "redis" | "postgres" | "sqs";

/** An adapter with options: `{ use: "postgres", url: process.env.DATABASE_URL, ... }`. */
export interface AdapterOptionsSetting {
  /** An {@link AdapterKind}, or the package name of a third-party adapter. */
  use: AdapterKind | (string & {});
  /** Connection URL, for backends that take one. */
  url?: string;
  /** Backend-specific options, passed to the adapter package's `createAdapter`. */
  [option: string]: unknown;
}

/** A kind name, a kind with options, or an adapter instance you built yourself. */
export type AdapterSetting = AdapterKind | AdapterOptionsSetting | Adapter;

/** A value per environment name (`development`, `test`, `production`…). */
export type PerEnvironment<T> = { readonly [environment: string]: T };

/** Worker settings; `errand work` flags override them. */
export interface WorkerSettings {
  /** Jobs run at once. Default 10. */
  concurrency?: number;
  /** Weighted queues: `"critical,2 default,1"`, `["critical,2", "default"]`, or `"*"` (every queue). Default `"*"` when the backend supports it, else `"default"`. */
  queues?: string | readonly string[];
  /** Jobs reserved ahead of free slots, kept in a local buffer and refilled when half gone. Default: `concurrency`, at least 10. */
  prefetch?: number;
  /** Lease length; renewed every third of it while a job runs. Default `"5m"`. */
  lease?: Duration;
  /** How long an idle worker waits for work per reserve (blocking backends) or between polls. Default `"1s"`. */
  pollInterval?: Duration;
  /** How long running jobs may take to finish at shutdown before they are handed back. Default `"25s"`. */
  shutdownGrace?: Duration;
  /**
   * Run the scheduler of the config's recurring tasks in each worker (the embedded pool
   * included). Default true; `errand work --no-recurring` turns it off for one worker.
   */
  recurring?: boolean;
  /**
   * Start the in-process pool of an embedded-worker adapter (async) on first use. Default
   * true; set false to run that adapter's jobs with your own `Worker` (tests, benchmarks).
   */
  embedded?: boolean;
}

/** Errand's configuration. Every field is optional. */
export interface ErrandConfig {
  /** App name, used in model gids (`gid://<app>/User/1`). Default `"errand"`. */
  app?: string;
  /**
   * The default adapter, or one per environment. Default `"async"`. `ERRAND_URL`
   * overrides it by scheme (`redis://`, `postgres://`, `sqs://`, `async:`, `inline:`).
   */
  adapter?: AdapterSetting | PerEnvironment<AdapterSetting>;
  /** Named adapters for job classes pinned with `static adapter = "name"`. */
  adapters?: Readonly<Record<string, AdapterSetting | PerEnvironment<AdapterSetting>>>;
  /** Job classes, or globs of modules whose exported job classes are registered (relative to the config file). */
  jobs?: readonly (Function | string)[];
  /** Mailer classes whose mails workers may deliver (`Mailer` subclasses; exported mailers of `jobs` globs count too). */
  mailers?: readonly Function[];
  /** How mail is sent: `{ transport: "smtp://…" | nodemailer options | transporter | "test" }`. Default `"test"` in the test environment. */
  mail?: MailSettings;
  /** Prepended to every queue name, with {@link ErrandConfig.queueNameDelimiter}. */
  queueNamePrefix?: string;
  /** Between prefix and queue name. Default `"_"`. */
  queueNameDelimiter?: string;
  /** Default retry policy for errors no rule matches. Default: 25 attempts, polynomial backoff, jitter 0.15. */
  retry?: Partial<RetryPolicy>;
  /** Worker settings (also used by the async adapter's in-process pool). */
  worker?: WorkerSettings;
  /**
   * Recurring tasks by name: `{ "nightly-cleanup": { job: CleanupJob, cron: "0 3 * * *",
   * tz: "Europe/Berlin" }, "poll-api": { job: PollJob, every: "10m" } }`. Workers enqueue
   * each tick; the backend keeps one job per tick (docs/recurring-tasks.md). A task's
   * job class is registered like one in `jobs`.
   */
  recurring?: Readonly<Record<string, RecurringTask>>;
  /**
   * Where jobs made inside an app's transaction go when their adapter cannot join it: a
   * table of the app's database, relayed to the adapter after commit
   * (`new PostgresOutbox({ url })` from `@errand/adapter-postgres`; docs/transactions.md).
   */
  outbox?: Outbox;
  /**
   * Builds the instance that performs a job or delivers a mail, for apps whose container
   * supplies constructor services (a repository, a client): `(target) =>
   * container.resolve(target)`. Errand then sets the job's arguments, id and run state.
   * Return `undefined` to let Errand build it (`new Target(...args)`). An answer that is not
   * an instance of `target`, or a throw, fails that run like an error in `perform`. With a
   * hook, `performLater` builds its instance without the subclass's constructor
   * (docs/dependency-injection.md).
   */
  resolve?: (target: JobClass | MailerClass) => object | undefined | Promise<object | undefined>;
  /**
   * Hooks around every enqueue and perform, for tracing and metrics:
   * `[errandInstrumentation()]` from `@errand/opentelemetry` (docs/observability.md).
   */
  instrumentation?: readonly Instrumentation[];
  /** Environment name; default `ERRAND_ENV`, else `NODE_ENV`, else `"development"`. */
  environment?: string;
  /** Directory that relative `jobs` globs start from. Set by `loadConfig` to the config file's directory; default the working directory. */
  root?: string;
}

/**
 * An {@link ErrandConfig} whose `recurring` entries are typed by their job classes
 * (`Jobs` maps task name → job class, inferred), so each entry's `args` is checked
 * against its job's `perform`.
 */
export type TypedConfig<Jobs extends Record<string, JobConstructor>> = Omit<ErrandConfig, "recurring"> & {
  recurring?: { readonly [Name in keyof Jobs]: RecurringTask<Jobs[Name]> };
};

/**
 * Types a configuration and checks it: an unknown key (`worker.leaseMs`) or a value of the
 * wrong kind is a `ConfigError` naming the key. Returns the object as given.
 */
export function defineConfig<Jobs extends Record<string, JobConstructor> = Record<string, JobConstructor>>(config: TypedConfig<Jobs>): ErrandConfig {
  validateConfig(config);
  return config as ErrandConfig;
}
