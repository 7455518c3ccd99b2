/**
 * Two posts of one key started together in one bot (two catch-ups of the same job event) make
 * one message. Before, both read the intent before either counted its send, so neither looked
 * for the other's message and both posted: the runner's recovery note appeared twice in a
 * job's thread. The order is forced, not timed: the test holds the intent's row, so a post that
 * read the intent waits at the count of its send, and both would have read it by the release.
 */
import { webApi } from '@slack/bolt';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { getSlackPost, recordSlackPostIntent } from '../../../src/control/slack-posts.js';
import { PostsOnce, POST_EVENT_TYPE } from '../../../src/slack/io/posts-once.js';
import type { Logger } from '../../../src/types.js';
import { until } from '../../support/until.js';
import { INCIDENT, startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
let holder: pg.PoolClient | undefined;
afterEach(async () => {
  await holder?.query('ROLLBACK').catch(() => undefined); // released already when the test got that far
  holder?.release();
  holder = undefined;
  await h?.close();
  h = undefined;
});

it('two posts of one key started together make one message (the second waits for the first)', async () => {
  h = await startHarness();
  const { slack, pool, config } = h;
  const key = 'job:concurrent:event:7:summary';
  const waits: string[] = [];
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: (_o: unknown, msg: string) => void waits.push(msg) };
  const client = new webApi.WebClient(config.slack.botToken, { slackApiUrl: slack.url, retryConfig: { retries: 0 } });
  const posts = new PostsOnce({ writer: client, reader: client, control: pool, log: log as unknown as Logger });

  await recordSlackPostIntent(pool, { key, kind: 'summary', channel: INCIDENT });
  holder = await pool.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT 1 FROM slack_posts WHERE key = $1 FOR UPDATE', [key]);
  const message = { text: 'Summary: job failed', blocks: [] };
  const both = Promise.all([posts.post(INCIDENT, message, undefined, { key, kind: 'summary' }), posts.post(INCIDENT, message, undefined, { key, kind: 'summary' })]);
  // Both posts read the intent (no send counted) and wait to count theirs, or the second waits for the first.
  await until('both posts to wait at the row or one for the other', async () => {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE slack_posts SET attempts%'`,
    );
    return rows[0]!.n >= 2 || (rows[0]!.n === 1 && waits.length > 0) ? true : undefined;
  }, 30_000);
  await holder.query('COMMIT');

  const [first, second] = await both;
  expect(second).toBe(first);
  const marked = slack.transcript.messages(INCIDENT).filter((m) => m.metadata?.event_type === POST_EVENT_TYPE && (m.metadata.event_payload as { key?: string }).key === key);
  expect(marked.map((m) => m.ts)).toEqual([first]);
  expect(await getSlackPost(pool, key)).toMatchObject({ ts: first, attempts: 1 });
});
