/**
 * Waits for runners to plan the requests this bot filed, and turns each planning message
 * into the plan preview (or the runner's refusal). Woken by NOTIFY on `recover_plans` and by
 * a poll, so a lost notification only delays the preview. A runner that stays silent is
 * reported in the message after `stallMs`.
 */
import { findCommand } from '../../../commands/index.js';
import { getCurrentPlan, getRequest, type PlanRecord, type RequestRecord } from '../../control/index.js';
import { code, escapeMrkdwn, type SlackMessage } from '../views/common.js';
import { notice } from '../views/help.js';
import { redactText } from '../../log.js';
import { planningRefusalMessage, planningStalledMessage, planPreviewMessage, type PreviewState } from '../views/plan.js';
import { requiredApprovals, settingsMismatch } from './approvers.js';
import type { BotDeps } from '../context.js';
import { PRIORITY } from '../io/outbox.js';

export interface PendingPlan {
  requestId: string;
  channel: string;
  ts: string;
  commandText: string;
  requesterId: string;
  pool: string;
  since: number;
}

export function typedTextOf(deps: BotDeps, request: RequestRecord): string {
  return deps.typedText.get(request.id) ?? request.command;
}

export function previewMessage(deps: BotDeps, request: RequestRecord, plan: PlanRecord, state: PreviewState): SlackMessage {
  // Approvals collected under other settings than the runner's would fail late (or count wrongly): say so instead of the buttons.
  const mismatch = state.kind === 'open' ? settingsMismatch(deps.config.approval, plan.plan) : null;
  if (mismatch) {
    const error = { code: mismatch.code, message: mismatch.message, hint: mismatch.hint ?? null };
    return planningRefusalMessage({ commandText: typedTextOf(deps, request), requesterId: request.requesterId, error, by: 'recover-bot (configuration)' });
  }
  return planPreviewMessage({
    requestId: request.id,
    requesterId: request.requesterId,
    commandText: typedTextOf(deps, request),
    plan: plan.plan,
    digest: plan.digest,
    required: requiredApprovals(deps.config.approval, plan.plan),
    approvers: deps.approvers.mentions(request.teamId),
    state,
    runs: Boolean(findCommand(request.command)?.run),
  });
}

/** A read-only plan of a command that runs, with no approval required (the default for read-only): queued at once. */
export function runsWithoutApproval(deps: BotDeps, request: RequestRecord, plan: PlanRecord): boolean {
  return plan.plan.risk === 'read-only' && Boolean(findCommand(request.command)?.run) && requiredApprovals(deps.config.approval, plan.plan) === 0
    && settingsMismatch(deps.config.approval, plan.plan) === null;
}

/** Re-renders the preview message of a request (if it has one) in the given state. */
export function showPreview(deps: BotDeps, request: RequestRecord, plan: PlanRecord, state: PreviewState): void {
  const { planTs } = request.slackRefs;
  if (!planTs) return;
  deps.out.update(request.slackRefs.channel ?? request.channelId, planTs, previewMessage(deps, request, plan, state), PRIORITY.interactive);
}

export class PlanWatcher {
  private readonly pending = new Map<string, PendingPlan & { stalled: boolean; failing: boolean }>();

  constructor(
    private readonly deps: BotDeps,
    private readonly stallMs = 5 * 60_000,
    /** A request already shown got a new plan (or its first plan raced the poll): refresh what shows it. */
    private readonly onReplanned: (requestId: string) => void = () => undefined,
    /** A read-only plan that needs no approval arrived: queue its job. */
    private readonly onRunnable: (requestId: string) => void = () => undefined,
  ) {}

  watch(plan: PendingPlan): void {
    this.pending.set(plan.requestId, { ...plan, stalled: false, failing: false });
    this.check(plan.requestId);
  }

  /** A NOTIFY said this request got a plan or a refusal. */
  notify(requestId: string): void {
    if (this.pending.has(requestId)) this.check(requestId);
    else this.onReplanned(requestId);
  }

  poll(): void {
    for (const id of this.pending.keys()) this.check(id);
  }

  private check(requestId: string): void {
    const entry = this.pending.get(requestId);
    if (!entry) return;
    this.deps.tasks.run(
      'plan check',
      () => this.deps.locks.serial(`plan:${requestId}`, () => this.update(requestId)),
      async (error) => {
        // Keep waiting (the next poll retries) but say once that the bot cannot see the plan.
        if (entry.failing) return;
        entry.failing = true;
        const text = `:warning: recover-bot cannot check the plan of request ${code(requestId.slice(0, 8))}: ${escapeMrkdwn(redactText(error.message))}`;
        await this.deps.out.post(entry.channel, notice(`${text}\nIt keeps retrying.`), entry.ts);
      },
    );
  }

  private async update(requestId: string): Promise<void> {
    const entry = this.pending.get(requestId);
    if (!entry) return;
    const { deps } = this;
    const request = await getRequest(deps.control, requestId);
    entry.failing = false;
    if (!request) {
      this.pending.delete(requestId);
      return;
    }
    const refs = { ...request, slackRefs: { channel: entry.channel, planTs: entry.ts, ...request.slackRefs } };
    if (request.planningError) {
      this.pending.delete(requestId);
      const message = planningRefusalMessage({ commandText: entry.commandText, requesterId: entry.requesterId, error: request.planningError });
      deps.out.update(entry.channel, entry.ts, message, PRIORITY.interactive);
      return;
    }
    const plan = await getCurrentPlan(deps.control, requestId);
    if (plan) {
      this.pending.delete(requestId);
      const state: PreviewState = request.status === 'rejected' ? { kind: 'cancelled', by: request.requesterId } : { kind: 'open' };
      showPreview(deps, refs, plan, state);
      if (state.kind === 'open' && runsWithoutApproval(deps, request, plan)) this.onRunnable(requestId);
      return;
    }
    const waited = deps.clock.now().getTime() - entry.since;
    if (!entry.stalled && waited >= this.stallMs) {
      entry.stalled = true;
      const message = planningStalledMessage({ commandText: entry.commandText, requesterId: entry.requesterId, pool: entry.pool, waitedSeconds: waited / 1000 });
      deps.out.update(entry.channel, entry.ts, message, PRIORITY.interactive);
    }
  }
}
