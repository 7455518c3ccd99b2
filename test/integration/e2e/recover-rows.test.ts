/**
 * The runbook's §8.1 through Slack, nothing mocked: a real control DB, the real bot behind the
 * Slack stand-in, a real runner, real clusters and Azurite. `/recover rows … --at … --with-children`
 * → plan preview → bob approves → a side instance is restored and previewed → the summary shows
 * the counts and the exact copy command → that command, typed as shown, is planned with the counts
 * as facts → typed confirmation (production's name) → bob approves → the rows are back in production.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { newestEndedJob, summaryThread as summaryThreadOf } from './e2e-jobs.js';
import { INCIDENT_CHANNEL, startWorld, type World } from '../../../devkit/world.js';
import { Transcript, type TranscriptMessage } from '../../../devkit/slack-standin/index.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { ACTIONS, CONFIRM_BLOCK, CONFIRM_INPUT } from '../../../src/slack/views/common.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { OTHERS_HASH_SQL, WORKFLOWS_SQL } from '../../support/workflows-fixture.js';

let world: World;
let at: string;
const channel = INCIDENT_CHANNEL.id;
const DB = 'aiagent_prod';
const hasButton = (message: TranscriptMessage, actionId: string) => JSON.stringify(message.blocks ?? []).includes(`"${actionId}"`);
const textOf = (message: TranscriptMessage) => Transcript.textOf(message);
const q = (text: string) => world.sandbox.query(text, [], DB);
const count = async (sql: string) => ((await q(sql)) as { n: number }[])[0]!.n;
const othersHash = async () =>
  (await q(OTHERS_HASH_SQL))[0];

beforeAll(async () => {
  world = await startWorld();
  const { sandbox } = world;
  await sandbox.query(`CREATE DATABASE ${DB}`);
  await q(WORKFLOWS_SQL);
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  const [{ before }] = (await q(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS before`)) as [{ before: string }];
  at = before;
  await q(`DELETE FROM workflow_executions WHERE workflow_id IN (SELECT id FROM workflows WHERE user_id = 12345); DELETE FROM workflows WHERE user_id = 12345`);
  await q(`INSERT INTO workflows (user_id, name) VALUES (1, 'after the mistake')`);
  await sandbox.switchAndArchive();
}, 180_000);

afterAll(async () => {
  await world?.cleanup();
});

const jobOf = (form: 'restore' | 'copy') => newestEndedJob(world, 'rows', `r.args->>'fromInstance' ${form === 'copy' ? 'IS NOT NULL' : 'IS NULL'}`);
const summaryThread = (after: string) => summaryThreadOf(world, 'rows', after);

test('§8.1 in Slack: rows --at previews on a side instance, the copy command it prints brings the rows back into production', async () => {
  const { slack } = world;
  const hashBefore = await othersHash();

  // 1. The side-copy plan: restore to the time, preview; nothing written to production.
  await slack.slashCommand({ user: 'U0ALICE', channel, text: `rows workflows --where "user_id = 12345" --at ${at} --with-children --db ${DB}` });
  const preview = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => hasButton(m, ACTIONS.requestApproval)), 60_000);
  const previewText = textOf(preview);
  expect(previewText).toContain('side copy: writes a new instance, production untouched');
  expect(previewText).toContain('Preview the rows against production (nothing written)');
  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
  const approval = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => hasButton(m, ACTIONS.approve)), 30_000);
  await slack.clickButton({ user: 'U0BOB', channel, messageTs: approval.ts, actionId: ACTIONS.approve });

  const restore = await jobOf('restore');
  expect(restore.status).toBe('succeeded');
  const instanceName = (restore.result.restored as { instanceName: string }).instanceName;
  expect(await count(`SELECT count(*)::int AS n FROM workflows WHERE user_id = 12345`)).toBe(0);

  // 2. The summary: the preview's counts and the exact copy command.
  const first = await summaryThread(approval.ts);
  expect(first).toContain('Preview (nothing written to production): 40 missing in production, 0 present (skipped), 0 different (left alone), 0 conflicting (a unique value taken: not inserted).');
  expect(first).toContain('workflows: 10 matching, 10 missing, 0 present, 0 different');
  expect(first).toMatch(/workflow_executions \(via [^)]+\): 30 matching, 30 missing, 0 present, 0 different/);
  const copyCommand = `rows workflows --where "user_id = 12345" --from-instance ${instanceName} --with-children --db ${DB}`;
  expect(first).toContain(`/recover ${copyCommand}`);
  // The side instance was verified before the preview (no longer "not verified"), compared with production in its report.
  expect(first).toMatch(/\*Integrity:\* passed \(\d+\/\d+ checks\)/);
  expect(slack.transcript.messages(channel).flatMap((m) => [m, ...slack.transcript.thread(channel, m.ts)]).map(textOf).join('\n')).toMatch(/compared with production aiagent_prod\* — informational: the side instance is production/);

  // 3. The copy, typed as the summary shows it: destructive, the counts as facts.
  const afterFirst = slack.transcript.messages(channel).at(-1)!.ts;
  await slack.slashCommand({ user: 'U0ALICE', channel, text: copyCommand });
  const copyPreview = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => m.ts > afterFirst && hasButton(m, ACTIONS.requestApproval)), 60_000);
  const copyText = textOf(copyPreview);
  expect(copyText).toContain('destructive: changes production');
  expect(copyText).toContain('*Will insert:* 40 rows; 0 already present are skipped; 0 present with other values are left alone');
  expect(copyText).toContain('workflows: 10 matching in the side instance, 10 missing in production');
  expect(copyText).toMatch(/workflow_executions \(children via [^)]+\): 30 matching in the side instance, 30 missing in production/);
  expect(copyText).toContain(`Insert 40 missing rows into production ${DB} (one transaction)`);

  // 4. Typed confirmation: a wrong name is refused in the modal, production's name opens approval.
  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: copyPreview.ts, actionId: ACTIONS.requestApproval });
  const modal = await slack.transcript.waitFor(() => slack.transcript.views('U0ALICE').find((v) => v.status === 'open'), 10_000);
  const wrong = await slack.submitView({ user: 'U0ALICE', viewId: modal.id, values: { [CONFIRM_BLOCK]: { [CONFIRM_INPUT]: 'aiagent' } } });
  expect(wrong.responseAction).toBe('errors');
  expect(slack.transcript.messages(channel).filter((m) => m.ts > copyPreview.ts && hasButton(m, ACTIONS.approve))).toEqual([]);
  const right = await slack.submitView({ user: 'U0ALICE', viewId: modal.id, values: { [CONFIRM_BLOCK]: { [CONFIRM_INPUT]: DB } } });
  expect(right.view.status).toBe('closed');
  const copyApproval = await slack.transcript.waitFor(() => slack.transcript.messages(channel).find((m) => m.ts > copyPreview.ts && hasButton(m, ACTIONS.approve)), 30_000);
  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: copyApproval.ts, actionId: ACTIONS.approve });
  await slack.transcript.waitFor(() => slack.transcript.ephemerals(channel, 'U0ALICE').find((m) => /does not count/i.test(textOf(m))), 10_000);
  await slack.clickButton({ user: 'U0BOB', channel, messageTs: copyApproval.ts, actionId: ACTIONS.approve });

  // 5. The rows are back in production, every other row untouched, the side instance removed.
  const copy = await jobOf('copy');
  expect(copy.status).toBe('succeeded');
  expect(copy.result).toMatchObject({ form: 'apply', applied: { totals: { restored: 40, skippedPresent: 0, conflicting: 0 }, instanceRemoved: true } });
  expect(await count(`SELECT count(*)::int AS n FROM workflows WHERE user_id = 12345`)).toBe(10);
  expect(await count(`SELECT count(*)::int AS n FROM workflow_executions e JOIN workflows w ON w.id = e.workflow_id WHERE w.user_id = 12345`)).toBe(30);
  expect(await othersHash()).toEqual(hashBefore);
  expect(existsSync(join(world.config.restoreRoot, instanceName))).toBe(false);

  const second = await summaryThread(copyApproval.ts);
  expect(second).toContain('40 rows restored, 0 skipped (present), 0 conflicting (left alone).');
  expect(second).toContain('workflows: 10 restored, 0 skipped, 0 conflicting');
  expect(second).toContain('workflow_executions: 30 restored, 0 skipped, 0 conflicting');
  expect(second).toContain('U0BOB');
  expect(slack.unknownCalls()).toEqual([]);
});
