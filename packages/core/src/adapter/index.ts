/**
 * `@errand/core/adapter`: what an adapter package needs — the contract, base
 * capabilities, the wire format, job ids, helpers for authors (`WakeSignal`, `groupBy`),
 * status stores and core's in-memory store.
 *
 * @module
 */
export * from "./contract.js";
export { MemoryStatusStore } from "../memory/status.js";
export type { BoundedStatusOptions, MemoryStatusOptions } from "../memory/status.js";
export { MemoryStore } from "../memory/store.js";
export { MemoryAdapter, memoryCapabilities } from "../memory/adapter.js";
export type { MemoryJob, MemoryStoreOptions } from "../memory/store.js";
export { decodePayload, encodePayload, validatePayload, WIRE_VERSION } from "../wire-format.js";
export { uuidv7 } from "../ids.js";
export { WakeSignal } from "./wake-signal.js";
export { groupBy } from "./group-by.js";
export { MigrationGate } from "./migration-gate.js";
export { LOCAL_MAX_LIVE, LocalStatusStore } from "../memory/local-status.js";
export type { FlowAcquire, FlowClaim, FlowClaimResult, FlowDecision, FlowPending, FlowRelease, StatusLease, StatusStore, StatusStoreBatches, StatusStoreFlow } from "./status-store.js";
export { DEAD_STATUS_TTL_MS, VOID_MARK_RETENTION_MS } from "./status-store-control.js";
export type { RunNowMark, StatusControlState, StatusDelivery, StatusQueueFigures, StatusStoreControl } from "./status-store-control.js";
export { describeOption, rules, validateOptions } from "../config/validate.js";
export type { OptionRule, OptionSchema } from "../config/validate.js";
export { AdapterClosedError, ConnectionError, AdapterError, MalformedPayloadError, UnsupportedError, ConfigError, JobCancelledError, JobAbortedError, JobInterruptRequestedError } from "../errors.js";

// Core's own adapters and its wrapper around adapters live in `backends/`; they were
// exported from this entry before, so they still are, for imports that name them here.
export { AdapterClient } from "../backends/client.js";
export { InlineAdapter } from "../backends/inline.js";
export { TestAdapter } from "../backends/test-adapter.js";
