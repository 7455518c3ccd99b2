/**
 * The parallel dump loader (src/engine/dumps/parallel) against real pg_dump 15 archives and a real
 * server: a schema built to trip it (quoted names, values with tabs, newlines and backslashes,
 * partitions with keys and a foreign key onto them, a trigger that must not fire while rows load,
 * a generated column, an unlogged table, a materialized view with its index, an exclusion
 * constraint, a NOT VALID check, keys with INCLUDE, a partial unique index, comments, a grant,
 * a sequence, large objects) restores to the same schema as pg_dump prints it and the same rows
 * in every table; whole tables are written frozen; rows dealt out between two sessions arrive
 * exactly once; a damaged data file fails naming its table; the job's signal stops the load and
 * leaves no session behind; an archive the loader does not read (LATIN1) is pg_restore's.
 */
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { pgDumpDirectoryArgs } from '../../../src/engine/pg-args.js';
import { DEFAULT_LEVERS, loadDump, parallelLoadPlan } from '../../../src/engine/dumps/load.js';
import { copyRows } from '../../../src/engine/dumps/parallel/copy-rows.js';
import type { LoadProgress } from '../../../src/engine/dumps/parallel/run.js';
import { createExec } from '../../../src/engine/exec.js';
import { freePort, initCluster, makeOwnedDir, startOnFreePort, stopCluster, withClient, type ClusterHandle } from '../../../src/engine/local-cluster.js';
import { ownerFor } from '../../../src/engine/os-user.js';
import { targetClient } from '../../../src/engine/pg-client.js';
import { tableHashes } from '../../../src/engine/verify.js';

const BIN = '/usr/lib/postgresql/15/bin';
const exec = createExec(pino({ level: 'silent' }));
let dir: string;
let cluster: ClusterHandle | undefined;
const sql = (text: string, db = 'postgres') => withClient(cluster!, db, (client) => client.query(text));
const conn = (dbname: string) => ({ host: cluster!.socketDir, port: cluster!.port, user: 'postgres', dbname });
const client = (database: string) => ({ host: cluster!.socketDir, port: cluster!.port, user: 'postgres', database });
const asPostgres = { asUser: 'postgres', timeoutMs: 300_000 };
const run = (file: string, args: string[], env?: Record<string, string>) => exec.run(file, args, { ...asPostgres, ...(env ? { env } : {}) });

const SCHEMA = String.raw`
CREATE ROLE loader_reader;
CREATE SCHEMA "We""ird";
CREATE TABLE "We""ird"."Tab le" (id int PRIMARY KEY, "Val" text, note text);
INSERT INTO "We""ird"."Tab le" SELECT g, E'tab\there\nnew line \\ back\\.slash ' || g, CASE WHEN g % 5 = 0 THEN NULL ELSE 'grüße ✓ ' || g END FROM generate_series(1, 3000) g;
INSERT INTO "We""ird"."Tab le" VALUES (-1, E'\\.', E'\\.\n\\.');
CREATE TABLE customers (id int PRIMARY KEY, email text UNIQUE NOT NULL);
INSERT INTO customers SELECT g, 'c' || g || '@example.net' FROM generate_series(1, 2000) g;
ALTER TABLE customers ADD CONSTRAINT email_at CHECK (email LIKE '%@%') NOT VALID;
CREATE TABLE events (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), kind text NOT NULL, created timestamptz NOT NULL, payload text);
INSERT INTO events SELECT g, 1 + g % 2000, (ARRAY['view','click','buy'])[1 + g % 3], '2025-01-01'::timestamptz + g * interval '1 second', md5(g::text) FROM generate_series(1, 30000) g;
CREATE INDEX events_kind_created ON events (kind, created);
CREATE UNIQUE INDEX events_buy_payload ON events (payload) WHERE kind = 'buy';
ALTER TABLE events ADD CONSTRAINT events_id_kind UNIQUE (id, kind) INCLUDE (created);
COMMENT ON INDEX events_kind_created IS 'the hot path';
GRANT SELECT ON events TO loader_reader;
CREATE TABLE m (id int, at date, v text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE m_2025 PARTITION OF m FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX m_v ON m (v);
INSERT INTO m SELECT g, '2024-06-01'::date + (g % 400), 'v' || g FROM generate_series(1, 4000) g;
CREATE TABLE m_ref (id int, at date, FOREIGN KEY (id, at) REFERENCES m (id, at));
INSERT INTO m_ref SELECT id, at FROM m WHERE id % 10 = 0;
CREATE TABLE stamped (id int PRIMARY KEY, touched int NOT NULL DEFAULT 0);
CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touched := NEW.touched + 1; RETURN NEW; END $$;
CREATE TRIGGER stamped_bump BEFORE INSERT ON stamped FOR EACH ROW EXECUTE FUNCTION bump();
INSERT INTO stamped SELECT g FROM generate_series(1, 100) g;
CREATE TABLE gen (a int, b int GENERATED ALWAYS AS (a * 2) STORED);
INSERT INTO gen SELECT g FROM generate_series(1, 50) g;
CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY);
INSERT INTO scratch SELECT generate_series(1, 10);
CREATE TABLE booking (r int4range, EXCLUDE USING gist (r WITH &&));
INSERT INTO booking SELECT int4range(g * 10, g * 10 + 5) FROM generate_series(1, 100) g;
CREATE MATERIALIZED VIEW kinds AS SELECT kind, count(*) AS n FROM events GROUP BY kind;
CREATE UNIQUE INDEX kinds_kind ON kinds (kind);
CREATE TABLE empty_one (id int PRIMARY KEY, v text);
CREATE SEQUENCE invoice_no; SELECT setval('invoice_no', 42);
SELECT lo_from_bytea(0, convert_to(repeat('large object ', 5000), 'UTF8'));
`;

/** pg_dump's schema of a database, without its random per-run \restrict key lines. */
const schemaOf = async (db: string) => (await exec.run(join(BIN, 'pg_dump'), ['--host', cluster!.socketDir, '--port', String(cluster!.port), '--username', 'postgres', '--schema-only', db], asPostgres)).stdout.replace(/^\\(un)?restrict .*$/gm, '');
const extras = async (db: string) => (await sql(`SELECT (SELECT last_value || ':' || is_called FROM invoice_no) AS seq, (SELECT string_agg(md5(lo_get(oid)), ',') FROM pg_largeobject_metadata) AS los, (SELECT string_agg(kind || n, ',' ORDER BY kind) FROM kinds) AS kinds, (SELECT sum(touched) FROM stamped) AS touched, has_table_privilege('loader_reader', 'events', 'SELECT') AS granted, (SELECT count(*) FROM scratch) AS scratch`, db)).rows[0];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rb-dump-loader-'));
  await chmod(dir, 0o755);
  cluster = await startOnFreePort(exec, BIN, 'postgres', await initCluster(exec, { bin: BIN, osUser: 'postgres', owner: await ownerFor('postgres'), dataDir: join(dir, 'data'), socketDir: join(dir, 'run'), port: await freePort(), settings: { fsync: 'off' } }));
  await sql('CREATE DATABASE src TEMPLATE template0');
  await sql(SCHEMA, 'src');
  await makeOwnedDir(join(dir, 'dump'), await ownerFor('postgres'));
  await run(...pgDumpDirectoryArgs(BIN, conn('src'), join(dir, 'dump', 'files'), 2));
}, 180_000);

afterAll(async () => {
  if (cluster) await stopCluster(exec, BIN, 'postgres', cluster.dataDir, 'immediate').catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

test('a hostile schema loads to the same schema and the same rows as its source; whole tables are frozen', async () => {
  const dumpDir = join(dir, 'dump', 'files');
  const loader = await parallelLoadPlan(dumpDir, 2, DEFAULT_LEVERS);
  expect('plan' in loader && loader.plan.copies.length).toBeGreaterThan(8);
  await sql('CREATE DATABASE dst TEMPLATE template0');
  const phases: string[] = [];
  const progress: LoadProgress[] = [];
  await loadDump(run, (kind, title) => { phases.push(`${kind}: ${title}`); return () => 0; }, { bin: BIN, conn: conn('dst'), client: client('dst'), dumpDir, jobs: 2, noOwner: false, maintenanceWorkMemMb: 64, onProgress: (p) => progress.push(p) });
  // Progress: every byte of the data files and every statement counted, never going back.
  const plan = 'plan' in loader ? loader.plan : null;
  expect(progress.at(-1)).toEqual({ bytes: plan!.copies.reduce((sum, copy) => sum + copy.bytes, 0), totalBytes: plan!.copies.reduce((sum, copy) => sum + copy.bytes, 0), statements: plan!.statements.length, totalStatements: plan!.statements.length });
  expect(progress.every((p, i) => i === 0 || (p.bytes >= progress[i - 1]!.bytes && p.statements >= progress[i - 1]!.statements))).toBe(true);
  expect(phases).toEqual([expect.stringMatching(/^restore-schema/), expect.stringMatching(/^restore-data: Load the rows \(\d+ tables; the others each in one session, written frozen\)/)]);
  expect(await schemaOf('dst')).toBe(await schemaOf('src'));
  expect(await tableHashes({ host: cluster!.socketDir, port: cluster!.port, user: 'postgres' }, 'dst')).toEqual(await tableHashes({ host: cluster!.socketDir, port: cluster!.port, user: 'postgres' }, 'src'));
  const [got, want] = [await extras('dst'), await extras('src')];
  expect(got).toEqual(want);
  expect(got).toMatchObject({ seq: '42:true', touched: '100', granted: true, scratch: '10' });
  // Written frozen: every page of a whole-loaded table is all-frozen in the visibility map.
  await sql('CREATE EXTENSION pg_visibility', 'dst');
  const frozen = (await sql(`SELECT all_frozen, (SELECT relpages FROM pg_class WHERE oid = 'events'::regclass) AS pages FROM pg_visibility_map_summary('events')`, 'dst')).rows[0];
  expect(Number(frozen.pages)).toBeGreaterThan(0);
  expect(Number(frozen.all_frozen)).toBe(Number(frozen.pages));
}, 180_000);

test('an uncompressed dump (pg_dump --compress=0) loads the same rows', async () => {
  await makeOwnedDir(join(dir, 'plain'), await ownerFor('postgres'));
  const [file, args] = pgDumpDirectoryArgs(BIN, conn('src'), join(dir, 'plain', 'files'), 2);
  await run(file, [...args, '--compress', '0']);
  const loader = await parallelLoadPlan(join(dir, 'plain', 'files'), 2, DEFAULT_LEVERS);
  expect('plan' in loader && loader.plan.copies.every((copy) => !copy.gzip && copy.file.endsWith('.dat'))).toBe(true);
  await sql('CREATE DATABASE plain TEMPLATE template0');
  await loadDump(run, () => () => 0, { bin: BIN, conn: conn('plain'), client: client('plain'), dumpDir: join(dir, 'plain', 'files'), jobs: 2, noOwner: false, maintenanceWorkMemMb: 64 });
  const server = { host: cluster!.socketDir, port: cluster!.port, user: 'postgres' };
  expect(await tableHashes(server, 'plain')).toEqual(await tableHashes(server, 'src'));
}, 180_000);

test('a dump taken with --load-via-partition-root (rows loaded through the root, never frozen as the partition) loads the same rows', async () => {
  await makeOwnedDir(join(dir, 'viaroot'), await ownerFor('postgres'));
  const [file, args] = pgDumpDirectoryArgs(BIN, conn('src'), join(dir, 'viaroot', 'files'), 2);
  await run(file, [...args, '--load-via-partition-root']);
  const loader = await parallelLoadPlan(join(dir, 'viaroot', 'files'), 2, DEFAULT_LEVERS);
  expect('plan' in loader && loader.plan.copies.filter((copy) => !copy.ownTable).map((copy) => copy.name).sort()).toEqual(['m_2024', 'm_2025']);
  await sql('CREATE DATABASE viaroot TEMPLATE template0');
  await loadDump(run, () => () => 0, { bin: BIN, conn: conn('viaroot'), client: client('viaroot'), dumpDir: join(dir, 'viaroot', 'files'), jobs: 2, noOwner: false, maintenanceWorkMemMb: 64 });
  const server = { host: cluster!.socketDir, port: cluster!.port, user: 'postgres' };
  expect(await tableHashes(server, 'viaroot')).toEqual(await tableHashes(server, 'src'));
  expect(await schemaOf('viaroot')).toBe(await schemaOf('src'));
}, 180_000);

test('rows dealt out between two sessions arrive exactly once, each session taking a share', async () => {
  await sql('CREATE DATABASE split TEMPLATE template0');
  await sql('CREATE TABLE t (id int, v text)', 'split');
  const rows = Array.from({ length: 200_000 }, (_, i) => `${i}\tvalue ${i} ${'x'.repeat(i % 50)}\n`).join('');
  const file = join(dir, 'rows.dat.gz');
  await writeFile(file, gzipSync(Buffer.from(`${rows}\\.\n\n`)));
  const sessions = [targetClient(client('split')), targetClient(client('split'))];
  try {
    for (const session of sessions) await session.connect();
    const pids = await Promise.all(sessions.map(async (session) => Number((await session.query('SELECT pg_backend_pid() AS pid')).rows[0].pid)));
    expect(await copyRows(sessions, 'COPY public.t (id, v) FROM stdin', file, true, new AbortController().signal)).toBe(200_000);
    expect(pids[0]).not.toBe(pids[1]);
  } finally {
    await Promise.all(sessions.map((session) => session.end()));
  }
  const check = (await sql('SELECT count(*) AS n, count(DISTINCT id) AS ids, min(id) AS lo, max(id) AS hi, sum(length(v)) AS len FROM t', 'split')).rows[0];
  expect(check).toMatchObject({ n: '200000', ids: '200000', lo: 0, hi: 199_999 });
  expect(Number(check.len)).toBe(rows.split('\n').filter(Boolean).reduce((sum, line) => sum + line.split('\t')[1]!.length, 0));
}, 120_000);

test('a damaged data file fails naming its table; the job\'s signal stops the load and leaves no session behind', async () => {
  const damaged = join(dir, 'damaged');
  await exec.run('cp', ['-a', join(dir, 'dump', 'files'), damaged]);
  const loader = await parallelLoadPlan(damaged, 2, DEFAULT_LEVERS);
  if (!('plan' in loader)) throw new Error(loader.unsupported);
  const events = loader.plan.copies.find((copy) => copy.name === 'events')!;
  await writeFile(join(damaged, events.file), Buffer.from('not gzip at all'));
  await sql('CREATE DATABASE broken TEMPLATE template0');
  const request = { bin: BIN, conn: conn('broken'), client: client('broken'), dumpDir: damaged, jobs: 2, noOwner: false, maintenanceWorkMemMb: 64 };
  await expect(loadDump(run, () => () => 0, request)).rejects.toThrow(/rows of public\.events from \d+\.dat\.gz failed/);

  await sql('CREATE DATABASE stopped TEMPLATE template0');
  const controller = new AbortController();
  const loading = loadDump(run, (kind) => { if (kind === 'restore-data') setImmediate(() => controller.abort(new Error('cancelled by the test'))); return () => 0; }, { ...request, conn: conn('stopped'), client: client('stopped'), dumpDir: join(dir, 'dump', 'files'), signal: controller.signal });
  await expect(loading).rejects.toThrow('cancelled by the test');
  const left = (await sql(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname IN ('broken', 'stopped')`)).rows[0].n;
  expect(left).toBe(0);
}, 180_000);

test('an archive the loader does not read (a LATIN1 database) is restored by pg_restore alone, the same rows', async () => {
  await sql(`CREATE DATABASE lat TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'`);
  await sql(`CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'caf' || chr(233) || g FROM generate_series(1, 500) g`, 'lat');
  await makeOwnedDir(join(dir, 'latdump'), await ownerFor('postgres'));
  await run(...pgDumpDirectoryArgs(BIN, conn('lat'), join(dir, 'latdump', 'files'), 1));
  const loader = await parallelLoadPlan(join(dir, 'latdump', 'files'), 2, DEFAULT_LEVERS);
  expect(loader).toEqual({ unsupported: expect.stringMatching(/LATIN1/) });
  await sql(`CREATE DATABASE lat2 TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'`);
  const phases: string[] = [];
  await loadDump(run, (_kind, title) => { phases.push(title); return () => 0; }, { bin: BIN, conn: conn('lat2'), client: client('lat2'), dumpDir: join(dir, 'latdump', 'files'), jobs: 2, noOwner: false, maintenanceWorkMemMb: 64 });
  expect(phases.join('\n')).toMatch(/pg_restore -j 2/);
  const server = { host: cluster!.socketDir, port: cluster!.port, user: 'postgres' };
  expect(await tableHashes(server, 'lat2')).toEqual(await tableHashes(server, 'lat'));
  expect(await readdir(join(dir, 'latdump', 'files'))).toContain('toc.dat');
}, 180_000);
