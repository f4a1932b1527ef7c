/**
 * `@errand/core`: background jobs for TypeScript, in the spirit of Rails' ActiveJob.
 *
 * @example
 * import { Job, queueAs, configure } from "@errand/core";
 * configure({ adapter: "async" });
 * \@queueAs("reports")
 * class ReportJob extends Job<[userId: number]> {
 *   async perform(userId: number) { return { userId }; }
 * }
 * const { jobId } = await ReportJob.performLater(42);
 *
 * @module
 */
export { Job, performAllLater } from "./job/job.js";
export type { ConfiguredJob, JobArgs, JobClass, JobResult } from "./job/job.js";
export type { EnqueuedJob, SetOptions } from "./job/enqueuing.js";
export type { Step, StepOptions } from "./job/steps.js";
export { batch } from "./batch/batch.js";
export type { BatchCallback, BatchFunction, BatchOptions, BatchStatusOptions } from "./batch/batch.js";
export type { BatchHandle } from "./batch/handle.js";
export type { BatchCallbackKind, BatchRecord, BatchState } from "./adapter/batch.js";
export {
  afterDiscard,
  afterEnqueue,
  afterPerform,
  aroundEnqueue,
  aroundPerform,
  beforeEnqueue,
  beforePerform,
  discardOn,
  limitConcurrency,
  queueAs,
  queueWithPriority,
  rateLimit,
  rescueFrom,
  retryOn,
  timeout,
  unique,
  useAdapter,
} from "./job/decorators.js";
export type { ConcurrencyOptions, FlowKey, RateLimitOptions, StaticUnique, UniqueOptions } from "./job/flow.js";
export type { JobClassDecorator } from "./job/decorators.js";
export type { AroundCallback, Callback } from "./job/callbacks.js";
export { backoffMs, DEFAULT_RETRY_POLICY } from "./job/exceptions.js";
export type { ErrorClass, RescueHandler, RetryOptions, RetryPolicy, RetryWait, StaticDiscard, StaticRescue, StaticRetry } from "./job/exceptions.js";
export type { AfterDiscardHandler, PrioritySetting, QueueSetting } from "./job/settings.js";

export { registerModel, model, brandModel, MODEL_NAME } from "./serializers/models.js";
export type { ModelOptions } from "./serializers/models.js";
export { registerSerializer } from "./serializers/custom.js";
export type { SerializerOptions } from "./serializers/custom.js";

export { defineConfig } from "./config/define.js";
export type { AdapterKind, AdapterOptionsSetting, AdapterSetting, ErrandConfig, PerEnvironment, TypedConfig, WorkerSettings } from "./config/define.js";
export { loadConfig, CONFIG_FILES } from "./config/load.js";
export { currentEnvironment, settingFromUrl } from "./config/environment.js";
export { adapterPackage } from "./backends/resolve.js";
export { configure, currentRuntime, Runtime } from "./runtime.js";

export { Mailer, MailDelivery } from "./mailer/mailer.js";
export type { DeliverLaterOptions, MailArgs, MailerClass, MailMethod } from "./mailer/mailer.js";
export { defineMailer } from "./mailer/facade.js";
export type { MailBuilder, MailerFacade, NoStaticCollision, StaticCollision } from "./mailer/facade.js";
export { registerMailer, UnknownMailerError } from "./mailer/registry.js";
export type { AfterDeliver, BeforeDeliver, DeliveryContext, MailAttachment, MailerConstructor, MailerDefaults, MailerSettings, MailMessage, SentMail } from "./mailer/message.js";
export { MailDeliveryError, UndeliverableMailError } from "./mailer/transport.js";
export type { MailSettings, MailTransporter, MailTransportSetting } from "./mailer/transport.js";
export { MailDeliveryJob } from "./mailer/delivery-job.js";

export { recurringTask, UnknownRecurringTaskError } from "./recurring/config.js";
export type { JobConstructor, MissedPolicy, RecurringArgs, RecurringTask, RecurringTaskOptions, RecurringTiming } from "./recurring/config.js";
export { RecurringTickError } from "./recurring/scheduler.js";

export { Worker, ShutdownError, LeaseLostError } from "./worker/worker.js";
export type { WorkerOptions, WorkerState } from "./worker/worker.js";
export { parseQueues } from "./worker/queues.js";
export type { WorkerContext, WorkerContextFactory, WorkerContextOptions } from "./worker/context.js";

export { getStatus, deadSet, listQueues } from "./admin.js";
export type { DeadSetApi } from "./admin.js";
export { jobs, queues, listWorkers, toJobView } from "./admin-control.js";
export { recurring } from "./admin-recurring.js";
export { DOCTOR_TIMEOUT_MS, runDoctor } from "./doctor/run.js";
export type { CheckStatus, DoctorCheck, DoctorOptions, DoctorReport } from "./doctor/run.js";
export type { RecurringApi, RecurringTaskView } from "./admin-recurring.js";
export type { JobView, JobList, JobsApi, ListJobsQuery, QueuesApi, WorkerView } from "./admin-control.js";
export type { JobStatus, JobState } from "./status.js";
export { isFinished, statusToJSON } from "./status.js";
export { watchStatus, statusWatchers } from "./status/watch.js";
export type { WatchStatusOptions } from "./status/watch.js";
export type { JobStatusJSON } from "./status/snapshot.js";
export { jobStatusHandler } from "./http/handler.js";
export type { JobStatusHandler, JobStatusHandlerOptions } from "./http/handler.js";
export type { CorsOptions } from "./http/cors.js";
export { statusToken, verifyStatusToken } from "./http/token.js";
export type { StatusSecret, StatusTokenOptions, TokenRefusal } from "./http/token.js";
export { toNodeHandler } from "./http/node.js";
export type { FetchHandler, NodeHandler } from "./http/node.js";

export { toMs } from "./duration.js";
export type { Duration, DurationObject } from "./duration.js";
export type { ErrandEvents, ErrandEventName } from "./events.js";
export type { EnqueueContext, EnqueueOutcome, EnqueueScope, Instrumentation, PerformContext, PerformOutcome, PerformScope } from "./instrumentation.js";
export {
  AdapterClosedError,
  AdapterError,
  AdapterNotInstalledError,
  ConfigError,
  ConnectionError,
  DeserializationError,
  ErrandError,
  InvalidDurationError,
  JobTimeoutError,
  JobCancelledError,
  JobAbortedError,
  JobInterruptRequestedError,
  JobInterruptedError,
  ResumptionLimitError,
  StepError,
  MalformedPayloadError,
  SerializationError,
  UnknownJobError,
  JobNotFoundError,
  UnsupportedError,
  TransactionFlushError,
} from "./errors.js";
export type { TransactionConnection } from "./transactions/connection.js";
export { withTransaction } from "./transactions/scope.js";
export type { Outbox, OutboxJob, OutboxRelayOptions } from "./transactions/outbox.js";
export { runOutboxRelay } from "./transactions/relay.js";
export type { RunOutboxRelayOptions } from "./transactions/relay.js";
