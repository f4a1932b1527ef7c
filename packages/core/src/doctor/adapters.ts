/**
 * The doctor's backend checks, per adapter the environment uses: it resolves (its package
 * is installed, its options valid) and answers (one round trip, bounded), its schema is up to
 * date (PostgreSQL's migrations, Redis' key layout), the queues the workers serve exist
 * (SQS), and job statuses live in a store every process shares. The adapter reports what it
 * found (`Adapter.diagnose`); the verdicts and the advice are decided here.
 *
 * @module
 */
import type { Diagnosis, QueueDiagnosis, SchemaDiagnosis } from "../adapter/diagnosis.js";
import type { AdapterClient } from "../backends/client.js";
import { ConnectionError } from "../errors.js";
import { definitionOf } from "../job/settings.js";
import { registeredMailers } from "../mailer/registry.js";
import type { Runtime } from "../runtime.js";
import { parseQueues } from "../worker/queues.js";
import { failed, passed, reason, skipped, type DoctorCheck } from "./report.js";
import type { RecurringEntry } from "./setup.js";

/** One adapter the environment uses, as the adapter checks left it. */
export interface CheckedAdapter {
  /** `undefined` for the default adapter, else its name (in `config.adapters`, or a kind a job class pins). */
  name: string | undefined;
  /** `default`, or the name: the tail of the check ids. */
  key: string;
  /** `default adapter`, `adapter "mail"`. */
  label: string;
  /** The built adapter; absent when it did not resolve. */
  client?: AdapterClient;
  /** It answered (or runs in this process). */
  reachable: boolean;
  /** Its schema is known to be up to date (or it has none): later reads cannot migrate anything. */
  schemaReady: boolean;
}

/** The adapter names the environment uses: the default one, every named one, and those job classes pin. */
export function usedAdapters(runtime: Runtime): (string | undefined)[] {
  const names = new Set<string | undefined>([undefined, ...Object.keys(runtime.config.adapters ?? {})]);
  for (const jobClass of jobClasses(runtime)) names.add(settingsOf(jobClass)?.adapter);
  return [...names];
}

/**
 * The queues the workers of adapter `name` serve (prefix applied): the config's
 * `worker.queues` (default adapter, unless `*`), each job class's static queue, the queues of
 * recurring tasks, and `mailers` when the app has mailers. A queue chosen per job at enqueue
 * (`queueAs(fn)`) cannot be known here.
 */
export function servedQueues(runtime: Runtime, name: string | undefined, recurring: readonly RecurringEntry[]): string[] {
  const queues = new Set<string>();
  const add = (queue: unknown) => typeof queue === "string" && queues.add(runtime.queueName(queue));
  if (name === undefined) {
    try {
      const selection = parseQueues(runtime.workerSettings.queues, []);
      if (selection !== "*") for (const queue of selection.queues) add(queue.name);
    } catch {
      // No worker.queues (or a bad one, which `errand work` reports): nothing to add.
    }
    if (registeredMailers().length > 0) add("mailers");
  }
  for (const jobClass of jobClasses(runtime)) {
    const settings = settingsOf(jobClass);
    if (settings && settings.adapter === name && settings.queue !== null) add(settings.queue ?? "default");
  }
  for (const entry of recurring) {
    if (!("spec" in entry)) continue;
    const settings = settingsOf(entry.spec.jobClass);
    if (settings && settings.adapter === name && (entry.spec.queue !== undefined || settings.queue !== null)) add(entry.spec.queue ?? settings.queue ?? "default");
  }
  return [...queues].sort();
}

/** Options of {@link checkAdapter}. */
export interface AdapterCheckOptions {
  runtime: Runtime;
  name: string | undefined;
  queues: readonly string[];
  timeoutMs: number;
}

/** Builds adapter `name` and pushes its checks. */
export async function checkAdapter({ runtime, name, queues, timeoutMs }: AdapterCheckOptions, checks: DoctorCheck[]): Promise<CheckedAdapter> {
  const key = name ?? "default";
  const label = name === undefined ? "default adapter" : `adapter "${name}"`;
  const result: CheckedAdapter = { name, key, label, reachable: false, schemaReady: false };
  const migrate = `run \`errand migrate${name === undefined ? "" : ` --adapter ${name}`}\``;
  try {
    result.client = await runtime.adapterFor(name);
  } catch (error) {
    checks.push(failed(`adapter:${key}`, label, reason(error), "fix the adapter setting for this environment (or install the package named)"));
    return result;
  }
  const client = result.client;
  const title = `${label} ${client.name}`;
  let diagnosis: Diagnosis | undefined;
  try {
    diagnosis = await within(client.diagnose({ timeoutMs, queues }), timeoutMs + 1000, `the ${client.name} adapter's diagnosis`);
  } catch (error) {
    const unreachable = error instanceof ConnectionError;
    checks.push(
      failed(
        `adapter:${key}`,
        title,
        `${unreachable ? "unreachable: " : ""}${reason(error)}`,
        unreachable ? "start the server, or fix the adapter's url for this environment" : "fix the adapter's settings or credentials for this environment",
      ),
    );
    checks.push(skipped(`schema:${key}`, `${title} schema, queues and status store`, `unknown: the ${client.name} adapter's diagnosis failed`));
    return result;
  }
  if (!diagnosis) {
    result.reachable = true;
    result.schemaReady = true;
    if (client.capabilities.embeddedWorker || !client.capabilities.durable) {
      checks.push(passed(`adapter:${key}`, title, { detail: "runs in this process: no server to reach" }));
    } else {
      checks.push(skipped(`adapter:${key}`, title, `the ${client.name} adapter offers no diagnose(): its server was not checked`));
    }
    return result;
  }
  result.reachable = true;
  checks.push(passed(`adapter:${key}`, title, { detail: `reachable${diagnosis.target ? ` at ${diagnosis.target}` : ""}, ${diagnosis.latencyMs} ms round trip`, latencyMs: diagnosis.latencyMs }));
  const schemaReady = diagnosis.schema === undefined || schemaCheck(`schema:${key}`, title, diagnosis.schema, migrate, checks);
  if (diagnosis.queues) checks.push(queuesCheck(`queues:${key}`, title, diagnosis.queues));
  // The status store's schema counts too: reads through the adapter reach the store's own migration gate.
  result.schemaReady = storeChecks(key, title, client, diagnosis, migrate, checks) && schemaReady;
  return result;
}

/** Pushes the schema's check; true when it is up to date. */
function schemaCheck(id: string, title: string, schema: SchemaDiagnosis, migrate: string, checks: DoctorCheck[]): boolean {
  if (schema.newer) {
    checks.push(failed(id, title, `${schema.name} is newer than this version reads: ${schema.newer}`, "upgrade the adapter package to the version that migrated it"));
    return false;
  }
  if (schema.pending.length > 0) {
    const count = schema.pending.length === 1 ? "1 migration" : `${schema.pending.length} migrations`;
    // A schema never created lists every migration: the first and the last say enough.
    const names = schema.pending.length > 5 ? `${schema.pending[0]} … ${schema.pending.at(-1)}` : schema.pending.join(", ");
    checks.push(failed(id, title, `${schema.name}: ${count} pending: ${names}`, migrate));
    return false;
  }
  checks.push(passed(id, title, { detail: `${schema.name} up to date` }));
  return true;
}

/** The queues' check: each exists with its dead-letter queue and redrives there. */
function queuesCheck(id: string, title: string, queues: readonly QueueDiagnosis[]): DoctorCheck {
  if (queues.length === 0) return passed(id, title, { detail: "no queue known to check (name them in worker.queues)" });
  const missing = queues.flatMap((queue) => [...(queue.exists ? [] : [queue.name]), ...(queue.deadLetter.exists ? [] : [queue.deadLetter.name])]);
  const noRedrive = queues.filter((queue) => queue.exists && queue.deadLetter.exists && !queue.redrive).map((queue) => queue.name);
  const createdOnUse = queues.every((queue) => queue.createdOnUse);
  if (missing.length > 0 && !createdOnUse) {
    return failed(id, title, `missing: ${missing.join(", ")}`, "create them (each queue with a redrive policy to its -dead queue), or set the adapter's createQueues: true");
  }
  if (noRedrive.length > 0) {
    return failed(id, title, `no redrive policy to the dead-letter queue on ${noRedrive.join(", ")}: a message workers crash on is received forever`, "set each queue's RedrivePolicy to its -dead queue");
  }
  const names = queues.map((queue) => queue.queue).join(", ");
  const note = missing.length > 0 ? `; ${missing.join(", ")} created on first use (createQueues)` : "";
  return passed(id, title, { detail: `queues ${names} and their dead-letter queues${missing.length > 0 ? " checked" : " exist"}${note}` });
}

/**
 * The status store's checks: shared by every process, reachable, its schema up to date.
 * Answers false when reading through the store could migrate it (its schema is pending or unknown).
 */
function storeChecks(key: string, title: string, client: AdapterClient, diagnosis: Diagnosis, migrate: string, checks: DoctorCheck[]): boolean {
  const store = diagnosis.statusStore;
  if (!store && !client.capabilities.localStatus) return true;
  const id = `status-store:${key}`;
  if (client.capabilities.localStatus || !store?.shared) {
    checks.push(
      failed(
        id,
        title,
        `job statuses live in each process's memory (${store?.name ?? "a local store"}): status, watch, unique jobs, batches and recurring tasks cannot work across the web process and the workers`,
        "give the adapter a shared store: status: new RedisStatusStore({ url }) (@errand/adapter-redis) or new PostgresStatusStore({ url }) (@errand/adapter-postgres)",
      ),
    );
    // A store in this process has no schema to migrate.
    return true;
  }
  if (store.error !== undefined) {
    checks.push(failed(id, title, `${store.name} unreachable: ${store.error}`, "start the store's server, or fix its url"));
    checks.push(skipped(`status-store-schema:${key}`, title, `${store.name} did not answer`));
    return false;
  }
  const latencyMs = store.diagnosis?.latencyMs;
  checks.push(passed(id, title, { detail: `statuses in ${store.name}, shared${latencyMs === undefined ? "" : `, ${latencyMs} ms round trip`}`, ...(latencyMs === undefined ? {} : { latencyMs }) }));
  return store.diagnosis?.schema === undefined || schemaCheck(`status-store-schema:${key}`, `${title} ${store.name}`, store.diagnosis.schema, migrate, checks);
}

/** `promise`, or a rejection once `ms` passed: the adapter bounds itself, this is core's backstop. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function jobClasses(runtime: Runtime): Function[] {
  return runtime.registry.list().flatMap((name) => runtime.registry.get(name) ?? []);
}

/**
 * A class's queue (its name; `undefined` for the default queue; `null` when chosen per job at
 * enqueue) and pinned adapter; `undefined` when its settings are invalid.
 */
function settingsOf(jobClass: Function): { queue: string | null | undefined; adapter: string | undefined } | undefined {
  try {
    const definition = definitionOf(jobClass);
    return { queue: typeof definition.queue === "function" ? null : definition.queue, adapter: definition.adapter };
  } catch {
    return undefined;
  }
}
