/**
 * The planning message: posted as soon as someone runs a runner-planned command, then
 * updated in place into the plan preview (or the runner's refusal, or, for read-only
 * commands, the answer itself). Pure.
 */
import type { Plan, Risk } from '../../types.js';
import { estimateBasis } from '../../estimate/rates.js';
import { uncertaintyRange } from '../../estimate/calibrate.js';
import { formatAmount } from '../../util/format.js';
import {
  ACTIONS, actions, shownDigestBlockId, code, context, fitMessage, formatDuration, header, plural, section, sectionsFromLines,
  shortId, truncate, user, type Block, type SlackMessage,
} from './common.js';

export const RISK_TEXT: Record<Risk, string> = {
  'read-only': 'read-only: changes nothing',
  'side-copy': 'side copy: writes a new instance, production untouched',
  destructive: ':warning: destructive: changes production',
};

/** The command as typed, quoted and escaped for mrkdwn. */
export const typed = (commandText: string): string => code(`/recover ${truncate(commandText, 200)}`);

export function planningMessage(input: { commandText: string; requesterId: string; pool: string }): SlackMessage {
  return fitMessage({
    text: `Planning /recover ${truncate(input.commandText, 200)} requested by ${user(input.requesterId)}…`,
    blocks: [
      section(`:hourglass_flowing_sand: Planning ${typed(input.commandText)} requested by ${user(input.requesterId)}…`),
      context(`A runner of pool ${code(input.pool)} reads the backup catalog and computes the plan; nothing runs yet.`),
    ],
  });
}

/** Shown when no runner answered for a while: planning is not lost, but people must know. */
export function planningStalledMessage(input: { commandText: string; requesterId: string; pool: string; waitedSeconds: number }): SlackMessage {
  const base = planningMessage(input);
  return fitMessage({
    text: `Planning /recover ${truncate(input.commandText, 200)} requested by ${user(input.requesterId)}… (no runner has answered yet)`,
    blocks: [
      ...base.blocks,
      section(
        `:warning: No runner of pool ${code(input.pool)} has answered for ${formatDuration(input.waitedSeconds)}. ` +
          'Check that a runner is running and can reach the control DB; this message updates as soon as one plans it.',
      ),
    ],
  });
}

export function planningRefusalMessage(input: { commandText: string; requesterId: string; error: { code: string; message: string; hint: string | null }; by?: string }): SlackMessage {
  const lines = [
    `:x: ${typed(input.commandText)} requested by ${user(input.requesterId)} cannot run: ${input.error.message}`,
    input.error.hint ?? '',
  ].filter(Boolean);
  return fitMessage({
    text: `Cannot run /recover ${truncate(input.commandText, 200)}: ${input.error.message}`,
    blocks: [...sectionsFromLines(lines, 3), context(`Refused by ${input.by ?? 'the runner'} (${code(input.error.code)}); nothing was changed.`)],
  });
}

export type PreviewState =
  | { kind: 'open' }
  | { kind: 'approval-requested'; by: string }
  | { kind: 'cancelled'; by: string }
  | { kind: 'queued'; jobId: string };

export interface PlanPreviewInput {
  requestId: string;
  requesterId: string;
  commandText: string;
  plan: Plan;
  digest: string;
  required: number;
  /** Mentions of who may approve (users and user groups). */
  approvers: string[];
  state: PreviewState;
  /** The command runs a job (verify); false when its plan is the whole answer (backups). */
  runs?: boolean;
}

/**
 * The preview shows one expected duration, computed one way: the sum of the steps' estimates
 * (`expectedSeconds`). A fact that claims a duration of its own (older runners put one in
 * the pitr plan) is left out rather than shown as a second, different figure.
 */
const DURATION_FACT = /^\s*expected\s+duration\s*$/i;

function withoutDurationFact(facts: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(facts).filter(([name]) => !DURATION_FACT.test(name)));
}

export function factLines(facts: Record<string, string>): string[] {
  return Object.entries(facts).map(([name, value]) => `*${name}:* ${truncate(value, 1500)}`);
}

export function stepLines(plan: Plan): string[] {
  return plan.steps.map((step, i) => {
    const rate = step.estimate ? ` at ${formatAmount(step.estimate.bytesPerSecond, 'bytes')}/s` : '';
    const estimate = step.estimateSeconds ? ` _(~${formatDuration(step.estimateSeconds)}${rate})_` : '';
    const mark = step.destructive ? ' :warning: *destructive*' : '';
    return `${i + 1}. ${step.title}${mark}${estimate}`;
  });
}

/**
 * Where the rates behind the estimate come from, when steps were estimated from rates: measured
 * on this runner pool (the fewest samples any step had), or not yet (defaults). Null otherwise.
 */
export function estimateBasisText(plan: Plan): string | null {
  const estimates = plan.steps.flatMap((s) => (s.estimate ? [s.estimate] : []));
  if (estimates.length === 0) return null;
  const samples = Math.min(...estimates.map((e) => e.samples));
  return estimateBasis(samples, samples === 0 && estimates.every((e) => e.samples > 0 || e.probed));
}

/**
 * `about 4 min, measured: …`; until the pool has measured a restore, with the range the
 * estimate is good for (src/estimate/calibrate.ts): `about 4 min (2 min–8 min; no restore
 * measured on this pool yet, rates from this runner's start-up probe)`.
 */
export function expectedDurationText(plan: Plan): string {
  const expected = expectedSeconds(plan);
  if (expected === null) return 'unknown';
  const estimates = plan.steps.flatMap((s) => (s.estimate ? [s.estimate] : []));
  const basis = estimateBasisText(plan);
  if (!basis) return `about ${formatDuration(expected)}`;
  if (estimates.every((e) => e.samples > 0)) return `about ${formatDuration(expected)}, ${basis}`;
  const probed = estimates.every((e) => e.samples > 0 || e.probed);
  const { low, high } = uncertaintyRange(expected, probed);
  return `about ${formatDuration(expected)} (${formatDuration(low)}–${formatDuration(high)}; no restore measured on this pool yet, ${probed ? "rates from this runner's start-up probe" : 'default rates'})`;
}

export function expectedSeconds(plan: Plan): number | null {
  const estimates = plan.steps.map((s) => s.estimateSeconds).filter((s): s is number => typeof s === 'number');
  return estimates.length ? estimates.reduce((a, b) => a + b, 0) : null;
}

function stateBlocks(input: PlanPreviewInput): Block[] {
  const { state } = input;
  switch (state.kind) {
    case 'open':
      return [
        actions(shownDigestBlockId('plan', input.digest), [
          { actionId: ACTIONS.requestApproval, text: 'Request approval', value: input.requestId, style: 'primary' },
          { actionId: ACTIONS.cancelRequest, text: 'Cancel', value: input.requestId },
        ]),
      ];
    case 'approval-requested':
      return [context(`:lock: Approval requested by ${user(state.by)}: see the approval message below.`)];
    case 'queued':
      return [context(`:white_check_mark: Approved; job ${code(shortId(state.jobId))} is queued.`)];
    case 'cancelled':
      return [section(`:no_entry_sign: Cancelled by ${user(state.by)}; nothing will run.`)];
  }
}

export function planPreviewMessage(input: PlanPreviewInput): SlackMessage {
  const { plan } = input;
  if (plan.risk === 'read-only' && !input.runs) return readOnlyAnswer(input);
  if (plan.risk === 'read-only' && input.required === 0) return readOnlyRun(input);
  const destructive = plan.steps.filter((s) => s.destructive).length;
  const approvers = input.approvers.length ? input.approvers.join(', ') : '_nobody: no approvers are configured for this workspace_';
  const blocks: Block[] = [
    header(`Plan: /recover ${truncate(input.commandText, 120)}`),
    section(`${plan.summary}\nRequested by ${user(input.requesterId)}`),
    ...sectionsFromLines(factLines(withoutDurationFact(plan.facts)), 4),
    section(`*Steps* (${plural(plan.steps.length, 'step')}${destructive ? `, ${destructive} destructive` : ''})`),
    ...sectionsFromLines(stepLines(plan), 4),
    section(
      [
        `*Expected duration:* ${expectedDurationText(plan)}`,
        `*Risk:* ${RISK_TEXT[plan.risk]}`,
        `*Approvals needed:* ${input.required} (not the requester) from ${approvers}`,
      ].join('\n'),
    ),
    context(`Plan digest ${code(input.digest.slice(0, 12))} · request ${code(shortId(input.requestId))} · approvals bind to this exact plan`),
    ...stateBlocks(input),
  ];
  return fitMessage({ text: `Plan: ${plan.summary} (risk ${plan.risk}, ${input.required} approval(s) needed)`, blocks });
}

/** A read-only command that runs, with no approval required: it is queued at once; its status message follows. */
function readOnlyRun(input: PlanPreviewInput): SlackMessage {
  const { plan, state } = input;
  const where = state.kind === 'queued' ? `job ${code(shortId(state.jobId))} is queued; its status message follows` : 'it runs now, no approval needed';
  return fitMessage({
    text: `/recover ${truncate(input.commandText, 120)}: ${plan.summary}`,
    blocks: [
      header(`/recover ${truncate(input.commandText, 120)}`),
      section(`${plan.summary}\nRequested by ${user(input.requesterId)}`),
      ...sectionsFromLines(factLines(plan.facts), 4),
      ...sectionsFromLines(stepLines(plan), 4),
      context(`Read-only, changes nothing: ${where} · request ${code(shortId(input.requestId))}`),
    ],
  });
}

/** A read-only command's plan is its answer: the facts the runner gathered. */
function readOnlyAnswer(input: PlanPreviewInput): SlackMessage {
  return fitMessage({
    text: `/recover ${truncate(input.commandText, 120)}: ${input.plan.summary}`,
    blocks: [
      header(`/recover ${truncate(input.commandText, 120)}`),
      section(input.plan.summary),
      ...sectionsFromLines(factLines(input.plan.facts), 8),
      context(`Asked by ${user(input.requesterId)} · read-only, nothing was changed`),
    ],
  });
}
