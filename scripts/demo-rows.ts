/**
 * `npm run demo`: the runbook's §8.1 in #inc-…, printed as it happens. All workflows of user
 * 12345 are deleted by mistake (their executions with them) and production keeps taking writes;
 * `/recover locate workflows` finds the DELETE's xid; `/recover rows … --before-xid N
 * --with-children` restores a side instance just before it and previews (bob approves); the
 * summary's exact copy command is typed, confirmed with production's name and approved by bob;
 * the rows go back into production; `/recover verify` gives the integrity report. Then the
 * proof in SQL: the user's rows are back in production exactly as they were, and a hash of every
 * other row (including those written after the mistake) is the same before and after.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { INCIDENT_CHANNEL, type World } from '../devkit/world.js';
import { ACTIONS, CONFIRM_BLOCK, CONFIRM_INPUT } from '../src/slack/views/common.js';
import { bad, channel, good, hasButton, jobIds, lastTs, nextJob, openWorld, renderChannel, say, settle, step, summaryThread } from './demo-common.js';
import { DB, hashes, seedProduction, USER } from './demo-rows-data.js';

/** Types a slash command as alice; returns the ts before it and the jobs known so far. */
async function type(w: World, text: string): Promise<{ after: string; known: Set<string> }> {
  const after = lastTs(w);
  const known = await jobIds(w);
  say(`   alice types: /recover ${text}`);
  const ack = await w.slack.slashCommand({ user: 'U0ALICE', channel, text });
  say(`   (acknowledged in ${ack.ackMs.toFixed(0)} ms)`);
  return { after, known };
}

const newMessageWith = (w: World, after: string, actionId: string, timeoutMs = 60_000) =>
  w.slack.transcript.waitFor(() => w.slack.transcript.messages(channel).find((m) => m.ts > after && hasButton(m, actionId)), timeoutMs);

function expectSucceeded(job: { status: string }, what: string): void {
  if (job.status !== 'succeeded') throw new Error(`${what} ended as ${job.status}`);
}

/** The story; true when the proof holds. */
export async function rowsStory(): Promise<boolean> {
  const world = await openWorld('workflows:updated_at,workflow_executions:completed_at');
  const { slack } = world;

  step('production: a workload, a base backup, the mistake, and production carries on');
  const { xid, before } = await seedProduction(world);

  step(`#${INCIDENT_CHANNEL.name}: alice asks which transaction deleted the workflows`);
  const locate = await type(world, `locate workflows --db ${DB}`);
  expectSucceeded(await nextJob(world, 'locate', locate.known), 'locate');
  const found = await summaryThread(world, 'locate', locate.after);
  const candidate = /xid (\d+)[^\n]*?workflows (\d+) row\(s\) deleted/.exec(found);
  if (!candidate) throw new Error(`the locate summary names no DELETE of workflows:\n${found}`);
  const [, locatedXid, deleted] = candidate;
  say(`   → the newest DELETE of workflows: xid ${locatedXid} (${deleted} rows); the mistake's xid was ${xid}`);
  if (locatedXid !== xid) throw new Error(`locate named xid ${locatedXid}, the mistake was xid ${xid}`);

  step('alice restores the rows as they were just before that transaction, onto a side instance (preview only)');
  const hashBefore = await hashes(world); // every row but user 12345's, before anything is restored
  const restoreWords = `rows workflows --where "user_id = ${USER}" --before-xid ${locatedXid} --with-children --db ${DB}`;
  const restore = await type(world, restoreWords);
  const preview = await newMessageWith(world, restore.after, ACTIONS.requestApproval);
  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: preview.ts, actionId: ACTIONS.requestApproval });
  const approval = await newMessageWith(world, preview.ts, ACTIONS.approve, 30_000);
  step('bob (DBA lead) approves the side restore');
  await slack.clickButton({ user: 'U0BOB', channel, messageTs: approval.ts, actionId: ACTIONS.approve });
  const restoreJob = await nextJob(world, 'rows', restore.known);
  expectSucceeded(restoreJob, 'the side restore');
  const summary = await summaryThread(world, 'rows', approval.ts);
  const copyWords = /\/recover (rows [^\n`]*--from-instance [^\n`]*)/.exec(summary)?.[1]?.trim();
  if (!copyWords) throw new Error(`the summary shows no copy command:\n${summary}`);
  const instanceName = /--from-instance (\S+)/.exec(copyWords)![1]!;
  say(`   → the summary's next step: /recover ${copyWords}`);

  step('alice copies the missing rows into production with the command the summary printed');
  const copy = await type(world, copyWords);
  const copyPreview = await newMessageWith(world, copy.after, ACTIONS.requestApproval);
  await slack.clickButton({ user: 'U0ALICE', channel, messageTs: copyPreview.ts, actionId: ACTIONS.requestApproval });
  const modal = await slack.transcript.waitFor(() => slack.transcript.views('U0ALICE').find((v) => v.status === 'open'), 10_000);
  say(`   alice types the production name in the confirmation: ${DB}`);
  await slack.submitView({ user: 'U0ALICE', viewId: modal.id, values: { [CONFIRM_BLOCK]: { [CONFIRM_INPUT]: DB } } });
  const copyApproval = await newMessageWith(world, copyPreview.ts, ACTIONS.approve, 30_000);
  step('bob approves the copy into production');
  await slack.clickButton({ user: 'U0BOB', channel, messageTs: copyApproval.ts, actionId: ACTIONS.approve });
  expectSucceeded(await nextJob(world, 'rows', copy.known), 'the copy');
  await summaryThread(world, 'rows', copyApproval.ts);

  step('alice checks production\'s integrity');
  const verify = await type(world, `verify ${DB}`);
  const verifyJob = await nextJob(world, 'verify', verify.known);
  await summaryThread(world, 'verify', verify.after);
  await settle();

  step('proof, in SQL against production');
  const after = await hashes(world);
  const checks: [boolean, string][] = [
    [after.userWorkflows === before.userWorkflows && after.userExecutions === before.userExecutions,
      `user ${USER}: ${after.userWorkflows} workflows and ${after.userExecutions} executions in production (before the mistake: ${before.userWorkflows} and ${before.userExecutions}; before the restore: ${hashBefore.userWorkflows} and ${hashBefore.userExecutions})`],
    [after.user === before.user, `user ${USER}'s rows, column for column: md5 ${after.user} now, ${before.user} before the mistake`],
    [after.others === hashBefore.others && after.otherRows === hashBefore.otherRows,
      `every other row (${after.otherRows}: users, other users' workflows and executions, those written after the mistake): md5 ${after.others} after, ${hashBefore.others} before the restore`],
    [verifyJob.status === 'succeeded', `/recover verify ${DB}: ${verifyJob.status}`],
    [!existsSync(join(world.config.restoreRoot, instanceName)), `side instance ${instanceName} removed after the copy`],
  ];
  for (const [ok, text] of checks) (ok ? good : bad)(`${ok ? '✓' : '✗'} ${text}`);
  const proven = checks.every(([ok]) => ok);
  if (proven) good(`user ${USER}'s workflows and executions are back in production; nothing else changed.`);
  await renderChannel(world);
  return proven;
}
