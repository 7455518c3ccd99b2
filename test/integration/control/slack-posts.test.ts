/** The record of the bot's Slack posts (slack_posts): intent first, ts once known, approvals to link after a restart. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequest, setRequestSlackRefs } from '../../../src/control/index.js';
import {
  getSlackPost, listUnlinkedApprovalPosts, markSlackPostAttempt, recordSlackPostIntent, saveSlackPostTs,
} from '../../../src/control/slack-posts.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('slack_posts', () => {
  it('records an intent once per key, counts sends, and keeps the first ts saved', async () => {
    const first = await recordSlackPostIntent(db.pool, { key: 'job:1:event:7:step', kind: 'step', channel: 'C1', threadTs: '1.5' });
    expect(first).toMatchObject({ key: 'job:1:event:7:step', kind: 'step', channel: 'C1', threadTs: '1.5', ts: null, attempts: 0, requestId: null });
    await markSlackPostAttempt(db.pool, first.key);
    const again = await recordSlackPostIntent(db.pool, { key: first.key, kind: 'step', channel: 'C1', threadTs: '1.5' });
    expect(again).toMatchObject({ ts: null, attempts: 1 });
    expect(again.createdAt).toEqual(first.createdAt);
    expect(await saveSlackPostTs(db.pool, first.key, '2.0')).toBe('2.0');
    expect(await saveSlackPostTs(db.pool, first.key, '3.0')).toBe('2.0'); // a second copy found later does not replace it
    expect((await getSlackPost(db.pool, first.key))?.ts).toBe('2.0');
  });

  it('lists approval messages whose request lacks the ts, until the request has it', async () => {
    const request = await createRequest(db.pool, { teamId: 'T', channelId: 'C1', requesterId: 'U1', command: 'pitr', args: {}, pool: 'default' });
    const key = `request:${request.id}:approval`;
    await recordSlackPostIntent(db.pool, { key, kind: 'approval', requestId: request.id, channel: 'C1' });
    expect((await listUnlinkedApprovalPosts(db.pool)).map((p) => p.key)).toContain(key);
    await saveSlackPostTs(db.pool, key, '9.1');
    expect((await listUnlinkedApprovalPosts(db.pool)).find((p) => p.key === key)?.ts).toBe('9.1'); // posted, not yet linked
    await setRequestSlackRefs(db.pool, request.id, { approvalTs: '9.1' });
    expect((await listUnlinkedApprovalPosts(db.pool)).map((p) => p.key)).not.toContain(key);
  });
});
