/**
 * One error vocabulary for every backend: a failure an adapter call threw becomes an
 * `ErrandError`. Errand's own errors pass as they are; then the adapter's `mapError` (its
 * backend's own signs of a lost connection); then Node's socket error codes, the same for
 * every adapter, as `ConnectionError`; anything else is an `AdapterError` naming the
 * operation.
 *
 * @module
 */
import { AdapterError, ConnectionError, ErrandError } from "../errors.js";
import type { Adapter } from "../adapter/contract.js";

/** Node's socket error codes: the backend could not be reached, whichever it is. */
const SOCKET_ERROR_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

/** What `error`, thrown by `adapter`'s `operation`, is reported as. */
export function mapAdapterError(adapter: Pick<Adapter, "name" | "mapError">, error: unknown, operation: string): Error {
  if (error instanceof ErrandError) return error;
  const mapped = adapter.mapError?.(error, operation);
  if (mapped) return mapped;
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code === "string" && SOCKET_ERROR_CODES.has(code)) return new ConnectionError(adapter.name, operation, error);
  return new AdapterError(adapter.name, operation, error);
}
