/**
 * The approval message (what will run, who asked, who approved, what is missing, when
 * approvals expire; Approve / Reject) and the confirmation modal of destructive plans. Pure.
 */
import type { Plan } from '../../types.js';
import {
  ACTIONS, actions, shownDigestBlockId, CONFIRM_BLOCK, CONFIRM_INPUT, CONFIRM_VIEW, code, context, fitMessage, formatUtc, header,
  plural, section, sectionsFromLines, shortId, truncate, user, type Block, type SlackMessage,
} from './common.js';
import { RISK_TEXT, stepLines } from './plan.js';

export interface CountedVote {
  userId: string;
  at: Date;
  expiresAt: Date;
}

export type ApprovalState =
  | { kind: 'open' }
  | { kind: 'approved'; jobId: string }
  | { kind: 'rejected'; by: string; at: Date }
  | { kind: 'closed'; reason: string };

export interface ApprovalMessageInput {
  requestId: string;
  requesterId: string;
  requestedAt: Date;
  plan: Plan;
  digest: string;
  required: number;
  approvers: string[];
  votes: CountedVote[];
  missing: number;
  /** Votes that do not count (describeRefusal texts). */
  notCounted: string[];
  ttlMinutes: number;
  state: ApprovalState;
  now: Date;
}

function title(input: ApprovalMessageInput): string {
  switch (input.state.kind) {
    case 'open':
      return `Approval needed: /recover ${input.plan.command}`;
    case 'approved':
      return `Approved: /recover ${input.plan.command}`;
    case 'rejected':
      return `Rejected: /recover ${input.plan.command}`;
    case 'closed':
      return `Closed: /recover ${input.plan.command}`;
  }
}

function statusLines(input: ApprovalMessageInput): string[] {
  const approved = input.votes.length
    ? input.votes.map((v) => `${user(v.userId)} at ${formatUtc(v.at)} (valid until ${formatUtc(v.expiresAt)})`).join('; ')
    : 'nobody yet';
  const lines = [`*Approved by:* ${approved}`];
  const { state } = input;
  if (state.kind === 'open') {
    const who = input.approvers.length ? input.approvers.join(', ') : '_nobody: no approvers are configured for this workspace_';
    lines.push(`*Still needed:* ${input.missing} more approval${input.missing === 1 ? '' : 's'} from ${who} (not ${user(input.requesterId)}, who asked)`);
    const soonest = input.votes.map((v) => v.expiresAt.getTime()).sort((a, b) => a - b)[0];
    const ifNow = new Date(input.now.getTime() + input.ttlMinutes * 60_000);
    lines.push(
      soonest === undefined
        ? `*Expires:* each approval stays valid for ${input.ttlMinutes} min (one given now: until ${formatUtc(ifNow)})`
        : `*Expires:* the approvals given so far lapse from ${formatUtc(new Date(soonest))}; each stays valid ${input.ttlMinutes} min`,
    );
  } else if (state.kind === 'approved') {
    lines.push(`:white_check_mark: All ${plural(input.required, 'approval')} in. Job ${code(shortId(state.jobId))} is queued; its status message follows.`);
  } else if (state.kind === 'rejected') {
    lines.push(`:no_entry_sign: Rejected by ${user(state.by)} at ${formatUtc(state.at)}. Nothing will run; start a new request if recovery is still needed.`);
  } else {
    lines.push(state.reason);
  }
  return lines;
}

export function approvalMessage(input: ApprovalMessageInput): SlackMessage {
  const { plan } = input;
  const blocks: Block[] = [
    header(title(input)),
    section(
      [
        `*What will run:* ${plan.summary}`,
        `*Plan digest:* ${code(input.digest.slice(0, 12))} · *Risk:* ${RISK_TEXT[plan.risk]}`,
        `*Requested by:* ${user(input.requesterId)} at ${formatUtc(input.requestedAt)}`,
      ].join('\n'),
    ),
    ...sectionsFromLines(stepLines(plan), 3),
    ...sectionsFromLines(statusLines(input), 2),
    ...(input.notCounted.length ? [context(`Not counted: ${truncate(input.notCounted.join('; '), 2500)}`)] : []),
    context(`Request ${code(shortId(input.requestId))} · approving binds to digest ${code(input.digest.slice(0, 12))}; a changed plan voids it`),
  ];
  if (input.state.kind === 'open') {
    blocks.push(
      actions(shownDigestBlockId('approval', input.digest), [
        { actionId: ACTIONS.approve, text: 'Approve', value: input.requestId, style: 'primary' },
        {
          actionId: ACTIONS.reject,
          text: 'Reject',
          value: input.requestId,
          style: 'danger',
          confirm: { title: 'Reject this recovery?', text: 'A reject ends the request; nothing will run.', confirm: 'Reject', deny: 'Keep it' },
        },
      ]),
    );
  }
  const missing = input.state.kind === 'open' ? `, ${input.missing} more approval(s) needed` : '';
  return fitMessage({ text: `${title(input)}: ${plan.summary}${missing}`, blocks });
}

export interface ConfirmMetadata {
  requestId: string;
  digest: string;
  expect: string;
}

/** The modal a requester of a destructive plan must fill in: type the production name. */
export function confirmModal(input: ConfirmMetadata & { plan: Plan }): Block {
  const destructive = input.plan.steps.filter((s) => s.destructive).map((s) => `• ${s.title}`);
  return {
    type: 'modal',
    callback_id: CONFIRM_VIEW,
    title: { type: 'plain_text', text: 'Confirm recovery' },
    submit: { type: 'plain_text', text: 'Request approval' },
    close: { type: 'plain_text', text: 'Back' },
    private_metadata: JSON.stringify({ requestId: input.requestId, digest: input.digest, expect: input.expect }),
    blocks: [
      section(`:warning: *This plan is destructive:* ${input.plan.summary}`),
      ...sectionsFromLines(['*Destructive steps:*', ...destructive], 2),
      {
        type: 'input',
        block_id: CONFIRM_BLOCK,
        label: { type: 'plain_text', text: `Type ${input.expect} to confirm` },
        hint: { type: 'plain_text', text: 'Exactly as shown, case-sensitive. Approvers still have to approve afterwards.' },
        element: { type: 'plain_text_input', action_id: CONFIRM_INPUT, placeholder: { type: 'plain_text', text: input.expect } },
      },
    ],
  };
}

export function parseConfirmMetadata(text: string): ConfirmMetadata | null {
  let value: Partial<ConfirmMetadata>;
  try {
    value = JSON.parse(text) as Partial<ConfirmMetadata>;
  } catch {
    return null; // not metadata we wrote
  }
  if (typeof value?.requestId === 'string' && typeof value.digest === 'string' && typeof value.expect === 'string') {
    return { requestId: value.requestId, digest: value.digest, expect: value.expect };
  }
  return null;
}

export function confirmationError(expect: string): string {
  return `That is not it: type exactly "${expect}" (case-sensitive) to confirm, or close this dialog.`;
}
