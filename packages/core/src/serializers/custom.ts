/**
 * Custom serializers for value classes superjson does not know (Money, Decimal, Temporal…).
 *
 * @module
 */
import { ConfigError } from "../errors.js";
import type { AnyClass } from "./models.js";

/** How to store and restore one kind of value. The stored form must be JSON. */
export interface SerializerOptions<T, Stored> {
  /** Unique name written into the payload; keep it stable across deploys. */
  name: string;
  /** Values this serializer handles: instances of this class (and subclasses)… */
  type?: AnyClass<T>;
  /** …or the values this predicate accepts. Give `type` or `test`. */
  test?: (value: unknown) => boolean;
  serialize(value: T): Stored;
  deserialize(stored: Stored): T;
}

// Serializer options with their class-or-predicate turned into a predicate.
export interface SerializerDefinition {
  name: string;
  applies(value: unknown): boolean;
  serialize(value: unknown): unknown;
  deserialize(stored: unknown): unknown;
}

const definitions = new Map<string, SerializerDefinition>();
const listeners: ((definition: SerializerDefinition) => void)[] = [];

/**
 * Registers a custom serializer.
 *
 * @example
 * registerSerializer({ name: "Money", type: Money, serialize: (m) => [m.cents, m.currency], deserialize: ([c, cur]) => new Money(c, cur) });
 */
export function registerSerializer<T, Stored>(options: SerializerOptions<T, Stored>): void {
  if (!options.name) throw new ConfigError("registerSerializer: { name } is required");
  if (definitions.has(options.name)) throw new ConfigError(`registerSerializer: "${options.name}" is already registered`);
  const { type, test } = options;
  if (!type === !test) throw new ConfigError(`registerSerializer "${options.name}": give exactly one of { type } or { test }`);
  const definition: SerializerDefinition = {
    name: options.name,
    applies: type ? (value) => value instanceof type : test!,
    serialize: options.serialize as (value: unknown) => unknown,
    deserialize: options.deserialize as (stored: unknown) => unknown,
  };
  definitions.set(options.name, definition);
  for (const listener of listeners) listener(definition);
}

/** The custom serializer for a value, if one applies. */
export function customSerializerFor(value: unknown): SerializerDefinition | undefined {
  if (definitions.size === 0) return undefined;
  for (const definition of definitions.values()) if (definition.applies(value)) return definition;
  return undefined;
}

/** Calls `listener` for every serializer registered, past and future. */
export function onSerializerRegistered(listener: (definition: SerializerDefinition) => void): void {
  listeners.push(listener);
  for (const definition of definitions.values()) listener(definition);
}
