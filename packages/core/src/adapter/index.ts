/**
 * `@errand/core/adapter`: what an adapter package needs — the contract, base
 * capabilities, the wire format, job ids and the in-memory status store.
 *
 * @module
 */
export * from "./contract.js";
export { MemoryStatusStore } from "./memory-status.js";
export type { MemoryStatusOptions } from "./memory-status.js";
export { AdapterClient } from "./client.js";
export { InlineAdapter } from "./inline.js";
export { TestAdapter } from "./test-adapter.js";
export { decodePayload, encodePayload, validatePayload, WIRE_VERSION } from "../wire-format.js";
export { uuidv7 } from "../job/ids.js";
export { WakeSignal } from "./wake-signal.js";
export { groupBy } from "./group-by.js";
export { LocalStatusStore } from "./status-store.js";
export type { StatusLease, StatusStore } from "./status-store.js";
export { describeOption, rules, validateOptions } from "../config/validate.js";
export type { OptionRule, OptionSchema } from "../config/validate.js";
export { AdapterClosedError, ConnectionError, AdapterError, MalformedPayloadError, UnsupportedError, ConfigError } from "../errors.js";
