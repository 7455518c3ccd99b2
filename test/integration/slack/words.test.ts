/**
 * Words as people type them in Slack, through real Bolt, the stand-in (which, like Slack, sends
 * the typed &, < and > as entities) and a control DB: smart quotes and dashes from macOS and iOS
 * give the request that was meant, and words holding mentions or links are shown literally in
 * every message they reach (planning, refusal, preview).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecoverError } from '../../../src/errors.js';
import type { Plan } from '../../../src/types.js';
import type { TranscriptMessage } from '../../../devkit/slack-standin/index.js';
import { closeHarness, findTop, type Harness, INCIDENT, startHarness, textOf } from './harness.js';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await closeHarness(h);
});

/** The notification text and every mrkdwn text of a message (plain_text, e.g. headers, shows as is). */
function mrkdwnOf(message: TranscriptMessage): string {
  const texts = [message.text];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (typeof node === 'object' && node !== null) {
      const record = node as Record<string, unknown>;
      if (record.type === 'mrkdwn' && typeof record.text === 'string') texts.push(record.text);
      Object.values(record).forEach(visit);
    }
  };
  visit(message.blocks);
  return texts.join('\n');
}

/** A live <…> that is not one of the bot's own mentions. */
const foreignLive = (message: TranscriptMessage): string[] =>
  [...mrkdwnOf(message).matchAll(/<[^>]*>/g)].map((m) => m[0]).filter((tag) => !/^<(@U0ALICE|@U0BOB|!subteam\^S0DBA)>$/.test(tag));

describe('words typed in Slack', () => {
  it('/recover rows with curly quotes (and iOS dashes) files the request that was meant, not a TARGET_CONFLICT', async () => {
    const { slack, runner } = h;
    const t = slack.transcript;
    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'rows workflows --where “user_id = 12345” --at 2025-01-15T14:29:59+00:00' });
    const request = await runner.waitForRequest();
    expect(request).toMatchObject({ command: 'rows', args: { table: 'workflows', where: 'user_id = 12345', at: '2025-01-15T14:29:59Z', beforeXid: null } });
    await t.waitFor(() => findTop(slack, INCIDENT, /Planning/));

    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: 'rows workflows —where “status = ‘done’ and created_at >= ‘2025-01-15’” —before-xid 73519' });
    const second = await runner.waitForRequest(2);
    expect(second.args).toMatchObject({ where: "status = 'done' and created_at >= '2025-01-15'", beforeXid: '73519' });
    expect(t.ephemerals(INCIDENT, 'U0ALICE').map(textOf).join('\n')).not.toMatch(/TARGET_CONFLICT|cannot be combined|not a time/);
  });

  it('a filter holding mentions and links is echoed literally in planning, refusal and preview', async () => {
    const { slack, runner } = h;
    const t = slack.transcript;
    const hostile = "note = '<@U0CAROL> <!channel> <!subteam^S0DBA> <https://evil.example|click>'";
    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: `rows workflows --where “${hostile}” --before-xid 73519` });
    const request = await runner.waitForRequest();
    expect(request.args).toMatchObject({ where: hostile });
    const planning = await t.waitFor(() => findTop(slack, INCIDENT, /Planning/));
    expect(foreignLive(planning)).toEqual([]);
    expect(textOf(planning)).toContain('&lt;!channel&gt;');
    expect(textOf(planning)).toContain('requested by <@U0ALICE>');

    // The runner refuses, echoing the words.
    await runner.refuse(request.id, new RecoverError('BAD_INPUT', `column "${hostile}" does not exist`, { hint: hostile }));
    const refused = await t.waitFor(() => {
      const m = t.message(INCIDENT, planning.ts);
      return m && /cannot run/.test(textOf(m)) ? m : undefined;
    });
    expect(foreignLive(refused)).toEqual([]);

    // A plan whose summary, facts and step titles carry the words.
    await slack.slashCommand({ user: 'U0ALICE', channel: INCIDENT, text: `rows workflows --where “${hostile}” --before-xid 73519` });
    const second = await runner.waitForRequest(2);
    const plan: Plan = {
      command: 'rows', summary: `Restore a side instance, then preview the rows matching ${hostile}`, risk: 'side-copy',
      steps: [{ kind: 'select', title: `Check the backup for ${hostile}`, params: {}, destructive: false, estimateSeconds: 2 }],
      facts: { Filter: hostile }, params: {},
    };
    await runner.plan(second.id, plan);
    const preview = await t.waitFor(() => t.messages(INCIDENT).find((m) => /Request approval/.test(textOf(m))));
    expect(foreignLive(preview)).toEqual([]);
    expect(textOf(preview)).toContain('&lt;@U0CAROL&gt;');
    expect(textOf(preview)).toContain('from <@U0BOB>, <!subteam^S0DBA>');
  });
});
