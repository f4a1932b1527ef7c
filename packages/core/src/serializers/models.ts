/**
 * Models travel as references, not state (GlobalID): a registered model becomes
 * `gid://<app>/<Model>/<id>` and is loaded again, by its finder, just before `perform`.
 * References to one model class in one job are loaded with a single `findMany`.
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

const byClass = new Map<Function, ModelDefinition>();
const byName = new Map<string, ModelDefinition>();
// Instance constructor -> definition (or null), so lookups on hot paths are one Map hit.
const lookupCache = new Map<Function, ModelDefinition | null>();

/**
 * Registers a model class so instances passed to `performLater` are stored as
 * `gid://app/Model/id` and loaded again at perform time.
 *
 * @example
 * registerModel(User, { find: (id) => db.user.findUnique({ where: { id } }), findMany: (ids) => db.user.findMany({ where: { id: { in: ids } } }) });
 */
export function registerModel<T, Id = unknown>(modelClass: AnyClass<T>, options: ModelOptions<T, Id>): void {
  const name = options.name ?? modelClass.name;
  if (!name) throw new ConfigError("registerModel: the class has no name; pass { name }");
  const existing = byName.get(name);
  if (existing && byClass.get(modelClass) !== existing) {
    throw new ConfigError(`registerModel: another class is already registered as model "${name}"`);
  }
  const definition: ModelDefinition = { name, options: options as ModelOptions<unknown, unknown> };
  byClass.set(modelClass, definition);
  byName.set(name, definition);
  lookupCache.clear();
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
export function modelOf(value: object): ModelDefinition | undefined {
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
  const className = (value as { constructor: { name?: string } }).constructor.name;
  const model = className && className !== definition.name ? `${className} (model ${definition.name})` : definition.name;
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
