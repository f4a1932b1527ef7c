/**
 * `@errand/client`: watch an Errand job from the browser. `watchJob` follows a job's status
 * over Server-Sent Events, polling with backoff when the stream is unavailable, and
 * resolves with the final status. The React hook is in `@errand/client/react`.
 *
 * @module
 */
export { watchJob } from "./watch.js";
export { type JobState, type JobStatusJSON, type WatchOptions, WatchError, isFinished } from "./types.js";
