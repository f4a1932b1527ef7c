/**
 * Models travel as references, not state (GlobalID): a registered model becomes
 * `gid://<app>/<Model>/<id>` and is loaded again, by its finder, just before `perform`.
 * References to one model class in one job are loaded with a single `findMany`.
 *
 * A model is recognised by its class (`registerModel(User, …)`), or, for the plain objects
 * some ORMs return (Prisma, Drizzle, Kysely), by a brand: a non-enumerable symbol property
 * naming the model (`brandModel(record, "User")`), registered by name
 * (`registerModel("User", …)`). The brand is read only when the class path found nothing.
 *
 * @module
 */
import "reflect-metadata";
import { ConfigError, DeserializationError } from "../errors.js";

/** How Errand finds records of one model class. */
export interface ModelOptions<T = unknown, Id = unknown> {
  /** Loads one record; `null`/`undefined` when it is gone. */
  find(id: Id): T | null | undefined | Promise<T | null | undefined>;
  /** Loads many records at once (any order, missing ones left out). Preferred when given. */
  findMany?(ids: Id[]): readonly T[] | Promise<readonly T[]>;
  /** Reads a record's id. Default: `record.id`. */
  id?(record: T): Id;
  /** Name in the gid. Default: the class name. Set it when code is minified. */
  name?: string;
  /**
   * Turns the id text of a gid back into the id the finder expects. Default: digits-only
   * text becomes a number, anything else stays a string.
   */
  parseId?(text: string): Id;
}

/** Any class whose instances are `T`, abstract ones included. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyClass<T = any> = abstract new (...args: any[]) => T;

interface ModelDefinition {
  name: string;
  options: ModelOptions<unknown, unknown>;
}

/**
 * The non-enumerable property that names the model of a plain record (see
 * {@link brandModel}). `Symbol.for`, so two copies of `@errand/core` agree on it.
 */
export const MODEL_NAME: unique symbol = Symbol.for("errand.modelName") as typeof MODEL_NAME;

const byClass = new Map<Function, ModelDefinition>();
const byName = new Map<string, ModelDefinition>();
// Instance constructor -> definition (or null), so lookups on hot paths are one Map hit.
const lookupCache = new Map<Function, ModelDefinition | null>();

/**
 * Registers a model so instances passed to `performLater` are stored as
 * `gid://app/Model/id` and loaded again at perform time. The model is a class (its
 * instances are recognised), or a name: plain records branded with that name by
 * {@link brandModel} (what the `@errand/orm` recipes do for Prisma, Drizzle and Kysely).
 *
 * @example
 * registerModel(User, { find: (id) => db.user.findUnique({ where: { id } }), findMany: (ids) => db.user.findMany({ where: { id: { in: ids } } }) });
 * registerModel("User", { find: … }); // records branded with brandModel(record, "User")
 */
export function registerModel<T, Id = unknown>(model: AnyClass<T> | string, options: ModelOptions<T, Id>): void {
  if (typeof model === "string") {
    if (model === "") throw new ConfigError("registerModel: the model name is empty");
    if (options.name !== undefined && options.name !== model) {
      throw new ConfigError(`registerModel: model "${model}" is given a different name "${options.name}" in its options`);
    }
    const existing = byName.get(model);
    if (existing && [...byClass.values()].includes(existing)) {
      throw new ConfigError(`registerModel: a class is already registered as model "${model}"`);
    }
    byName.set(model, { name: model, options: options as ModelOptions<unknown, unknown> });
    return;
  }
  const modelClass = model;
  const name = options.name ?? modelClass.name;
  if (!name) throw new ConfigError("registerModel: the class has no name; pass { name }");
  const existing = byName.get(name);
  if (existing && byClass.get(modelClass) !== existing) {
    throw new ConfigError(`registerModel: another ${[...byClass.values()].includes(existing) ? "class" : "model"} is already registered as model "${name}"`);
  }
  const definition: ModelDefinition = { name, options: options as ModelOptions<unknown, unknown> };
  byClass.set(modelClass, definition);
  byName.set(name, definition);
  lookupCache.clear();
}

/**
 * Marks a plain record as a record of the model registered under `name`
 * (`registerModel(name, …)`): a non-enumerable {@link MODEL_NAME} property, so spreading,
 * `JSON.stringify` and `Object.keys` do not see it. Returns the record.
 *
 * @example
 * await Welcome.performLater(brandModel(await db.user.findFirst(), "User"));
 */
export function brandModel<T extends object>(record: T, name: string): T {
  if (typeof record !== "object" || record === null) throw new ConfigError(`brandModel: ${String(record)} is not a record`);
  if (typeof name !== "string" || name === "") throw new ConfigError("brandModel: the model name must be a non-empty string");
  Object.defineProperty(record, MODEL_NAME, { value: name, enumerable: false, configurable: true, writable: false });
  return record;
}

/**
 * Class decorator twin of {@link registerModel}; works with legacy and standard decorators.
 *
 * @example
 * \@model({ find: (id) => users.get(id) })
 * class User { constructor(public id: number, public name: string) {} }
 */
export function model<T, Id = unknown>(options: ModelOptions<T, Id>) {
  return (target: AnyClass<T>, _context?: unknown): void => {
    registerModel(target, options);
  };
}

/** The model definition for an instance, if its class (or an ancestor) is registered. */
export function classModelOf(value: object): ModelDefinition | undefined {
  const ctor = (value as { constructor?: Function }).constructor;
  if (typeof ctor !== "function") return undefined;
  const cached = lookupCache.get(ctor);
  if (cached !== undefined) return cached ?? undefined;
  let found: ModelDefinition | null = null;
  for (let c: Function | null = ctor; c && c !== Function.prototype; c = Object.getPrototypeOf(c) as Function | null) {
    const definition = byClass.get(c);
    if (definition) {
      found = definition;
      break;
    }
  }
  lookupCache.set(ctor, found);
  return found ?? undefined;
}

/** The model definition a record's {@link MODEL_NAME} brand names, if registered. */
export function brandedModelOf(value: object): ModelDefinition | undefined {
  const brand = (value as { [MODEL_NAME]?: unknown })[MODEL_NAME];
  return typeof brand === "string" ? byName.get(brand) : undefined;
}

/**
 * The model definition for an instance: its class's, else the one its brand names. A
 * registered class costs what it did before brands (one cached Map hit); only objects whose
 * class is not a model read the brand property.
 */
export function modelOf(value: object): ModelDefinition | undefined {
  return classModelOf(value) ?? brandedModelOf(value);
}

function idOf(definition: ModelDefinition, record: unknown): unknown {
  return definition.options.id ? definition.options.id(record) : (record as { id?: unknown }).id;
}

/**
 * Why a registered model instance cannot be stored as a reference (it has no id yet), or
 * `undefined` when it can. The walk turns the reason into a `SerializationError` with the path.
 */
export function referenceProblem(value: object): string | undefined {
  const definition = modelOf(value);
  if (!definition) return undefined;
  const id = idOf(definition, value);
  if (id !== undefined && id !== null && id !== "") return undefined;
  const className = (value as { constructor?: { name?: string } }).constructor?.name;
  const model = className && className !== "Object" && className !== definition.name ? `${className} (model ${definition.name})` : definition.name;
  return `is a ${model} without an id (${id === "" ? '""' : String(id)}); save the record before enqueueing a job with it`;
}

/** The gid of a registered model instance; the walk has checked it with {@link referenceProblem}. */
export function toGid(app: string, value: object): string {
  const definition = modelOf(value);
  if (!definition) throw new ConfigError("toGid: not a registered model");
  const id = idOf(definition, value);
  return `gid://${encodeURIComponent(app)}/${encodeURIComponent(definition.name)}/${encodeURIComponent(String(id))}`;
}

const GID = /^gid:\/\/([^/]+)\/([^/]+)\/(.+)$/;

/** A model reference read from storage, waiting for its record. */
export class GidPlaceholder {
  constructor(readonly gid: string) {}
}

function defaultParseId(text: string): unknown {
  return /^-?\d{1,15}$/.test(text) ? Number(text) : text;
}

/**
 * Loads the records behind `placeholders`: one `findMany` (or `find` per id when no
 * `findMany`) per model class. Returns gid → record.
 * @throws DeserializationError when a class is unknown or a record is gone.
 */
export async function loadModels(placeholders: readonly GidPlaceholder[]): Promise<Map<string, unknown>> {
  const groups = new Map<ModelDefinition, Map<string, unknown>>(); // definition -> gid -> parsed id
  for (const { gid } of placeholders) {
    const match = GID.exec(gid);
    if (!match) throw new DeserializationError(`${gid} is not a valid gid`);
    const name = decodeURIComponent(match[2]!);
    const definition = byName.get(name);
    if (!definition) {
      throw new DeserializationError(`${gid}: model "${name}" is not registered in this process (registerModel)`);
    }
    const parse = definition.options.parseId ?? defaultParseId;
    let group = groups.get(definition);
    if (!group) groups.set(definition, (group = new Map()));
    group.set(gid, parse(decodeURIComponent(match[3]!)));
  }
  const loaded = new Map<string, unknown>();
  await Promise.all(
    [...groups].map(async ([definition, gids]) => {
      const ids = [...new Set(gids.values())];
      const byId = new Map<unknown, unknown>();
      try {
        if (definition.options.findMany) {
          for (const record of await definition.options.findMany(ids)) byId.set(idOf(definition, record), record);
        } else {
          const records = await Promise.all(ids.map((id) => definition.options.find(id)));
          records.forEach((record, index) => {
            if (record !== null && record !== undefined) byId.set(ids[index], record);
          });
        }
      } catch (error) {
        throw new DeserializationError(`loading ${definition.name} records failed: ${(error as Error)?.message ?? error}`, {
          cause: error,
        });
      }
      for (const [gid, id] of gids) {
        const record = byId.get(id);
        if (record === undefined || record === null) {
          throw new DeserializationError(`${definition.name} ${String(id)} (${gid}) no longer exists`);
        }
        loaded.set(gid, record);
      }
    }),
  );
  return loaded;
}
