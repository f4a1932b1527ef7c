/**
 * The transaction seam of issue 16: the scope (`withTransaction`), the connection an ORM
 * helper describes, and the outbox's contract. Re-exported from `@errand/core`.
 *
 * @module
 */
export type { TransactionConnection } from "./connection.js";
export type { Outbox, OutboxJob, OutboxRelayOptions } from "./outbox.js";
export { withTransaction } from "./scope.js";
