/**
 * The `resolve` hook that builds jobs and mailers with Nest's DI. A job holds one run's
 * state (its arguments, id, signal), so every run gets a fresh instance: a job provider
 * must be transient (`@Injectable({ scope: Scope.TRANSIENT })`), resolved with a new
 * context id each time; a singleton job provider is refused with what to write. A mailer
 * holds no run state, so a singleton mailer provider is used as it is. A class that is no
 * provider of the app is left to Errand (`undefined`): a job without services needs none.
 *
 * @module
 */
import { Scope } from "@nestjs/common";
import { ContextIdFactory, type ModuleRef } from "@nestjs/core";
import { ConfigError, Job, type ErrandConfig } from "@errand/core";

type ResolveHook = NonNullable<ErrandConfig["resolve"]>;

/** Whether `error` is Nest's "this token is no provider of the app". */
function isUnknownElement(error: unknown): boolean {
  return error instanceof Error && error.constructor.name === "UnknownElementException";
}

/**
 * A `resolve` hook for Errand's config that asks `moduleRef` (any module of the app: the
 * lookup is not strict) for the job or mailer class.
 */
export function nestResolver(moduleRef: ModuleRef): ResolveHook {
  return async (target) => {
    let scope: Scope | undefined;
    try {
      scope = moduleRef.introspect(target).scope;
    } catch (error) {
      if (isUnknownElement(error)) return undefined;
      throw error;
    }
    if (scope !== Scope.DEFAULT) {
      return moduleRef.resolve(target, ContextIdFactory.create(), { strict: false }) as Promise<object>;
    }
    if (!(target.prototype instanceof Job)) return moduleRef.get(target, { strict: false }) as object;
    throw new ConfigError(
      `${target.name} is a singleton provider, but a job holds one run's state: declare it @Injectable({ scope: Scope.TRANSIENT }) so each run gets its own instance`,
    );
  };
}
