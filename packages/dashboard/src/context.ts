/**
 * What every page and action is handed: where the dashboard lives, the request, this
 * browser's CSRF token, the options that shape pages, and the operator's API of the
 * dashboard's backend.
 *
 * @module
 */
import {
  currentRuntime,
  deadSet,
  jobs,
  listWorkers,
  queues,
  recurring,
  type DeadSetApi,
  type JobsApi,
  type QueuesApi,
  type RecurringApi,
  type Runtime,
  type BatchRecord,
  type WorkerView,
} from "@errand/core";
import type { AdapterCapabilities } from "@errand/core/adapter";

import type { Redactor } from "./redact.js";

/** The operator's API of one backend (the dashboard's `adapter` of its `runtime`). */
export class Backend {
  constructor(private readonly scope: { adapter?: string; runtime?: Runtime }) {}

  /** The backend's name (`"postgres"`) and what it can do. */
  async describe(): Promise<{ name: string; capabilities: AdapterCapabilities }> {
    const client = await (this.scope.runtime ?? currentRuntime()).adapterFor(this.scope.adapter);
    return { name: client.name, capabilities: client.capabilities };
  }

  /**
   * A batch's record, or `null` when unknown or expired (`capabilities.batches`: the
   * adapter's client refuses without it). What `batch.status(id)` reads, here through the
   * dashboard's own runtime and adapter.
   */
  async batch(id: string): Promise<BatchRecord | null> {
    const client = await (this.scope.runtime ?? currentRuntime()).adapterFor(this.scope.adapter);
    const [record] = await client.getBatches([id]);
    return record ?? null;
  }

  /** Jobs: list, get, cancel, run now, abort, interrupt. */
  get jobs(): JobsApi {
    return jobs(this.scope);
  }

  /** Queues: counts, pause, resume. */
  get queues(): QueuesApi {
    return queues(this.scope);
  }

  /** The dead set: retry, purge. */
  get dead(): DeadSetApi {
    return deadSet(this.scope);
  }

  /** The config's recurring tasks. */
  get recurring(): RecurringApi {
    return recurring(this.scope.runtime ? { runtime: this.scope.runtime } : {});
  }

  /** Workers, live and gone. */
  workers(): Promise<WorkerView[]> {
    return listWorkers(this.scope);
  }

  /** Registered job class names of the runtime (for the jobs filter's suggestions). */
  jobNames(): string[] {
    return (this.scope.runtime ?? currentRuntime()).registry.list();
  }
}

/** What a page or an action gets. */
export interface PageContext {
  /** The base path, without a trailing slash (`""` at the root). */
  base: string;
  /** The request's URL. */
  url: URL;
  /** This browser's CSRF token, for forms. */
  csrf: string;
  /** No actions: none shown, none accepted. */
  readOnly: boolean;
  /** Applies `filterArguments` to an argument list. */
  redact: Redactor;
  backend: Backend;
  /** The dashboard's title (`title` option). */
  title: string;
  /** Jobs per list page. */
  pageSize: number;
  /** The page's clock, ms since the epoch. */
  now: number;
}
