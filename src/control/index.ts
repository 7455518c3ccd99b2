/** The control-DB layer: schema, requests, approvals, jobs and their queue, events, audit. */
export { Tx, withTransaction, type Db } from './db.js';
export { canonicalJson, planDigest, sha256Hex } from './digest.js';
export { migrate, type Migration, type MigrationResult } from './migrate.js';
export { MIGRATIONS } from './migrations.js';
export * from './model.js';
export * from './approval-policy.js';
export { createRequest, getRequest, getCurrentPlan, savePlan, setRequestSlackRefs, type NewRequest, type SavedPlan } from './requests.js';
export {
  recordApproval,
  markApprovalRequested,
  listApprovals,
  type ApprovalInput,
  type RecordedApproval,
} from './approvals.js';
export { loadApprovalState, recordJobAuthorized } from './approval-state.js';
export { getJob, listJobs, setJobSlackRefs, isCancelRequested, requestCancel, heartbeatSilence, runnerHeartbeatSilence, type CancelEffect } from './jobs.js';
export {
  enqueueJob,
  claimNextJob,
  reclaimUnstartedJob,
  heartbeat,
  finishJob,
  reapExpiredLeases,
  type EnqueueInput,
  type JobOutcome,
} from './queue.js';
export { recordLostJobRecovery } from './runner-lost.js';
export { firstSeenRequest, SEEN_REQUEST_WINDOW_MINUTES } from './seen-requests.js';
export {
  recordSlackPostIntent, markSlackPostAttempt, saveSlackPostTs, getSlackPost, listUnlinkedApprovalPosts, type SlackPostIntent, type SlackPostRecord,
} from './slack-posts.js';
export { startStep, finishStep, appendRunnerEvent, listStepCheckpoints, listFinishedSteps, saveStepState, findOperationState, type StepRef } from './steps.js';
export { appendEvent, listEvents, subscribeEvents, EVENTS_CHANNEL } from './events.js';
export { recordRateSample, recentRateSamples, type RateSampleRecord } from './rates.js';
export { recordDatabaseCopy, findDatabaseCopies, COPY_RECORDED_ACTION, type DatabaseCopyInput, type DatabaseCopyRow } from './database-copies.js';
export {
  appendAudit,
  verifyAudit,
  listAudit,
  auditEntryHash,
  GENESIS_HASH,
  type AuditEntry,
  type AuditInput,
  type AuditVerification,
} from './audit.js';
export { planPendingRequests, savePlanningError, subscribeIds, PLANS_CHANNEL, REQUESTS_CHANNEL } from './planning.js';
export { ControlListener, type ControlListenerOptions } from './listener.js';
export { isTransientDbError, retryTransient, backoffDelay, delay, DEFAULT_BACKOFF, type Backoff, type RetryOptions } from './retry.js';
