/**
 * The mailer registry: the mailers whose mails this process can build, by the name jobs
 * store. It imports nothing of the runtime or of the `Mailer` class, so the runtime
 * registers the mailers of its config with a plain import, and no cycle runs through here.
 *
 * @module
 */
import { ConfigError, ErrandError } from "../errors.js";
import type { MailerConstructor } from "./message.js";

/**
 * Set on the `Mailer` base class (by the class itself): {@link isMailerClass} recognises
 * its subclasses by it. A registered symbol, so a mailer from another copy of
 * `@errand/core` in the process (a bundler, a TypeScript loader) counts too, as jobs do.
 */
export const MAILER_MARK = Symbol.for("errand.mailer");

/** A mailer method or class that cannot run: the job goes to the dead set. */
export class UnknownMailerError extends ErrandError {
  constructor(message: string) {
    super("ERR_UNKNOWN_MAILER", message);
  }
}

const mailers = new Map<string, MailerConstructor>();

/** The name a mailer is stored under in jobs: `static mailerName`, else the class name. */
export function mailerName(mailer: Function): string {
  const own = (mailer as { mailerName?: unknown }).mailerName;
  const name = typeof own === "string" && own ? own : mailer.name;
  if (!name) throw new ConfigError("a mailer class has no name; name the class or set static mailerName");
  return name;
}

/** True for a `Mailer` subclass (not `Mailer` itself). */
export function isMailerClass(value: unknown): value is MailerConstructor {
  return typeof value === "function" && (value as unknown as Record<symbol, unknown>)[MAILER_MARK] === true && !Object.hasOwn(value, MAILER_MARK);
}

/** The mailer and its ancestors below `Mailer`, farthest first. */
export function mailerAncestry(mailer: Function): Function[] {
  const chain: Function[] = [];
  for (let c: Function | null = mailer; c && !Object.hasOwn(c, MAILER_MARK); c = Object.getPrototypeOf(c) as Function | null) chain.unshift(c);
  return chain;
}

/** Registers mailers so workers can run their mails (`mailers` in config does this too). */
export function registerMailer(...classes: MailerConstructor[]): void {
  for (const mailer of classes) {
    if (!isMailerClass(mailer)) throw new ConfigError(`${(mailer as Function).name || String(mailer)} is not a Mailer subclass`);
    const name = mailerName(mailer);
    const existing = mailers.get(name);
    if (existing && existing !== mailer) throw new ConfigError(`two different mailers are named "${name}"; give one a distinct static mailerName`);
    mailers.set(name, mailer);
  }
}

/** The names of the registered mailers, sorted (`errand doctor`: their mails go to the `mailers` queue). */
export function registeredMailers(): string[] {
  return [...mailers.keys()].sort();
}

/** The mailer registered under `name`, with the reason when there is none. */
export function findMailer(name: string, method: string): MailerConstructor {
  const mailer = mailers.get(name);
  if (!mailer) {
    throw new UnknownMailerError(`unknown mailer "${name}" (registered: ${[...mailers.keys()].sort().join(", ") || "none"})`);
  }
  if (method === "constructor" || typeof (mailer.prototype as Record<string, unknown>)[method] !== "function") {
    throw new UnknownMailerError(`mailer "${name}" has no mail method "${method}"`);
  }
  return mailer;
}
