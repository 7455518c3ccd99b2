/** Shared by the Block Kit builder tests: a plan, big inputs, and the Slack-limits check. */
import { expect } from 'vitest';
import { validateBlocks, validateMessageContent, Transcript } from '../../../devkit/slack-standin/index.js';
import type { SlackMessage } from '../../../src/slack/views/common.js';
import type { Plan } from '../../../src/types.js';

/** Asserts Slack would accept the message (stand-in validators) and returns all its text. */
export function valid(message: SlackMessage): string {
  expect(validateMessageContent({ text: message.text, blocks: message.blocks })).toBeUndefined();
  expect(validateBlocks(message.blocks, 'message')).toEqual([]);
  expect(message.blocks.length).toBeLessThanOrEqual(50);
  return Transcript.textOf({ text: message.text, blocks: message.blocks });
}

export const plan: Plan = {
  command: 'pitr',
  summary: 'Point-in-time recovery to time 2025-01-15T14:29:59.000Z into production aiagent_prod (in place; old data directory kept)',
  risk: 'destructive',
  steps: [
    { kind: 'select', title: 'Check backup b1 and 58 WAL segments', params: {}, destructive: false, estimateSeconds: 2 },
    { kind: 'stop-production', title: 'Stop production aiagent_prod', params: {}, destructive: true, estimateSeconds: 10 },
    { kind: 'replay-wal', title: 'Replay 58 WAL segments, then promote', params: {}, destructive: true, estimateSeconds: 120 },
  ],
  facts: { Target: 'time 2025-01-15T14:29:59.000Z', 'Base backup': 'b1' },
  params: { target: { kind: 'time', time: '2025-01-15T14:29:59.000Z' }, to: 'in-place' },
};

export const huge = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix} ${i} ${'x'.repeat(80)}`);
