/**
 * The data of the §8.1 demo: a small aiagent_prod (users, workflows, workflow_executions of ten
 * users), a base backup, writes after it, the mistake (every workflow of user 12345 deleted in
 * one transaction, their executions with them through ON DELETE CASCADE), production taking
 * writes afterwards, and the hashes the proof compares.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { World } from '../devkit/world.js';
import { takeBaseBackup } from '../src/engine/backup.js';
import { withClient } from '../src/engine/local-cluster.js';
import { parseConnectionUrl } from '../src/util/connection-url.js';
import { say } from './demo-common.js';

export const DB = 'aiagent_prod';
export const USER = 12345;

const q = async <T = Record<string, unknown>>(w: World, sql: string): Promise<T[]> => (await w.sandbox.query(sql, [], DB)) as T[];

/** Hashes of user 12345's rows and of every other row of every table (in primary-key order). */
export async function hashes(w: World): Promise<{ user: string; others: string; userWorkflows: number; userExecutions: number; otherRows: number }> {
  const [row] = await q<{ user: string; others: string; uw: number; ue: number; o: number }>(
    w,
    `WITH uw AS (SELECT * FROM workflows WHERE user_id = ${USER}),
          ue AS (SELECT e.* FROM workflow_executions e WHERE e.workflow_id IN (SELECT id FROM uw)),
          ow AS (SELECT * FROM workflows WHERE user_id <> ${USER}),
          oe AS (SELECT e.* FROM workflow_executions e WHERE e.workflow_id NOT IN (SELECT id FROM uw))
     SELECT md5(coalesce((SELECT string_agg(md5(uw::text), '' ORDER BY id) FROM uw), '') || '|' || coalesce((SELECT string_agg(md5(ue::text), '' ORDER BY id) FROM ue), '')) AS user,
            md5((SELECT string_agg(md5(u::text), '' ORDER BY id) FROM users u) || '|' || (SELECT string_agg(md5(ow::text), '' ORDER BY id) FROM ow) || '|' || (SELECT string_agg(md5(oe::text), '' ORDER BY id) FROM oe)) AS others,
            (SELECT count(*)::int FROM uw) AS uw, (SELECT count(*)::int FROM ue) AS ue,
            (SELECT count(*)::int FROM users) + (SELECT count(*)::int FROM ow) + (SELECT count(*)::int FROM oe) AS o`,
  );
  return { user: row!.user, others: row!.others, userWorkflows: row!.uw, userExecutions: row!.ue, otherRows: row!.o };
}

export interface Seeded {
  /** The mistaken DELETE's transaction id, as PostgreSQL assigned it. */
  xid: string;
  /** User 12345's rows just before the mistake. */
  before: Awaited<ReturnType<typeof hashes>>;
}

export async function seedProduction(w: World): Promise<Seeded> {
  const { sandbox } = w;
  await sandbox.query(`CREATE DATABASE ${DB}`);
  await q(
    w,
    `CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL);
     CREATE TABLE workflows (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users(id), name text NOT NULL,
                             created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
     CREATE TABLE workflow_executions (id bigint PRIMARY KEY, workflow_id int NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
                                       status text NOT NULL, completed_at timestamptz);
     INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(12340, 12349) g;
     INSERT INTO workflows (id, user_id, name) SELECT g, 12340 + g % 10, 'workflow ' || g FROM generate_series(1, 300) g;
     INSERT INTO workflow_executions SELECT g, 1 + g % 300, CASE WHEN g % 7 = 0 THEN 'failed' ELSE 'succeeded' END, now() FROM generate_series(1, 1200) g;`,
  );
  say(`   ${DB}: 10 users (12340 … 12349), 300 workflows, 1200 workflow_executions`);
  const manifest = await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  say(`   nightly base backup ${manifest.id} stored in Azurite (postgresql-full/daily/${manifest.id}/)`);
  await q(w, `INSERT INTO workflow_executions SELECT g, 1 + g % 300, 'succeeded', now() FROM generate_series(1201, 1230) g`);
  say('   the day goes on: 30 more executions (some of user 12345\'s workflows among them)');

  const before = await hashes(w);
  say(`   user ${USER} has ${before.userWorkflows} workflows and ${before.userExecutions} executions`);
  const xid = await withClient(sandbox.production, DB, async (client) => {
    await client.query('BEGIN');
    await client.query(`DELETE FROM workflows WHERE user_id = ${USER}`);
    const id = (await client.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid')).rows[0]!.xid;
    await client.query('COMMIT');
    return id;
  });
  say(`   \x1b[31mDELETE FROM workflows WHERE user_id = ${USER}\x1b[0m  — committed by mistake (xid ${xid}); ON DELETE CASCADE took the executions too`);

  await q(
    w,
    `INSERT INTO workflows (id, user_id, name) VALUES (301, 12341, 'written after the mistake'), (302, 12347, 'written after the mistake'), (303, 12349, 'written after the mistake');
     INSERT INTO workflow_executions SELECT g, CASE WHEN g <= 1236 THEN 300 + (g % 3) + 1 ELSE 1 + (g % 10) * 10 END, 'succeeded', now() FROM generate_series(1231, 1245) g;`,
  );
  await sandbox.switchAndArchive();
  say('   production keeps taking writes: 3 workflows and 15 executions of other users; WAL archived');

  // The integrity checks run by /recover verify (the README's example, this schema's tables).
  const verifyConfig = join(sandbox.root, 'recover.verify.json');
  await writeFile(verifyConfig, JSON.stringify({
    databases: { [DB]: { criticalTables: ['users', 'workflows', 'workflow_executions'], rules: [{ name: 'created before updated', sql: 'SELECT id FROM workflows WHERE created_at > updated_at' }] } },
  }));
  w.config.verifyConfigFile = verifyConfig;
  return { xid, before };
}
