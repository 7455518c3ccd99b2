/**
 * A deleted WAL segment (a gap) is found before anything runs, with the reachable point named.
 * Last, on the same production: what the RPO watch reads when archiving breaks and is repaired.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../../support/run-cli.js';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { planPitr } from '../../../src/engine/pitr.js';
import { RecoverError } from '../../../src/errors.js';
import { readCatalog } from '../../../src/engine/read-catalog.js';
import { coverage } from '../../../src/catalog/coverage.js';
import { DEFAULT_SEGMENT_SIZE } from '../../../src/catalog/segments.js';
import { createLogger } from '../../../src/log.js';
import { readArchivingFacts } from '../../../src/runner/rpo/watch.js';
import { assess, type Assessment } from '../../../src/runner/rpo/state.js';
import { until } from '../../support/until.js';

let sandbox: Sandbox;
const segments: string[] = [];
const times: Date[] = [];
const beforeBatch: Date[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query('CREATE TABLE t (id int PRIMARY KEY)');
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  for (let batch = 0; batch < 4; batch++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    beforeBatch.push(new Date());
    await sandbox.query(`INSERT INTO t SELECT g FROM generate_series($1::int * 100 + 1, $1::int * 100 + 100) g`, [batch]);
    segments.push(await sandbox.switchAndArchive());
    times.push(new Date());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await sandbox.storage.wal.delete(`wal/${segments[1]}`);
}, 120_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

test('a target behind the gap is refused, naming the missing segment and the last reachable time', async () => {
  const target = { kind: 'time' as const, time: times[2]!, raw: '' };
  // From the catalog alone: the segment where replay must end.
  const pure = await planPitr(sandbox.context(), { target }).catch((e: unknown) => e);
  expect(pure).toBeInstanceOf(RecoverError);
  expect((pure as RecoverError).code).toBe('WAL_GAP');
  expect((pure as RecoverError).message).toContain(segments[1]);
  expect((pure as RecoverError).hint).toContain(`before the last transaction in ${segments[0]}`);
  // On the runner (PostgreSQL tools at hand): the exact time, read from that segment's WAL.
  const error = await planPitr(sandbox.context(), { target }, sandbox.config.pg).catch((e: unknown) => e);
  expect((error as RecoverError).code).toBe('WAL_GAP');
  expect((error as RecoverError).message).toContain(segments[1]);
  expect((error as RecoverError).message).toMatch(/last transaction ended at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00/);
  expect((error as RecoverError).hint).toMatch(/The newest time that restores is \d{4}-\S+\+00:00/);
});

test('--latest and xid targets need the whole chain and are refused too', async () => {
  for (const target of [{ kind: 'latest' as const }, { kind: 'xid' as const, xid: '999999' }]) {
    const error = await planPitr(sandbox.context(), { target }).catch((e: unknown) => e);
    expect((error as RecoverError).code).toBe('WAL_GAP');
  }
});

test('a target before the gap is still restorable', async () => {
  // Just before batch 0: the first commit after it is in segments[0], archived before the gap.
  const selection = await planPitr(sandbox.context(), { target: { kind: 'time', time: beforeBatch[0]!, raw: '' } });
  expect(selection.requiredSegments.at(-1)).toBe(segments[0]);
  expect(selection.requiredSegments).not.toContain(segments[1]);
});

test('the catalog reports the gap', async () => {
  const catalog = await readCatalog(sandbox.storage, new Date());
  const [timeline] = coverage(catalog, DEFAULT_SEGMENT_SIZE);
  expect(timeline!.gaps).toEqual([{ from: segments[1], to: segments[1], missing: 1 }]);
});

describe('the CLI over the same archive', () => {
  const run = (args: string[]) =>
    runCli(args, sandbox.cliEnv());

  test('recover backups --json lists the backup, the gap and the RPO exposure', async () => {
    const { code, stdout } = await run(['backups', '--json']);
    expect(code).toBe(0);
    const { ok, result } = JSON.parse(stdout);
    expect(ok).toBe(true);
    expect(result.backups).toHaveLength(1);
    expect(result.timelines[0].gaps).toEqual([{ from: segments[1], to: segments[1], missing: 1 }]);
    expect(result.timelines[0].latestRestorable).not.toBeNull();
    expect(result.rpoExposureSeconds).toBeGreaterThanOrEqual(0);
    expect(result.rpoObjectiveSeconds).toBe(15 * 60);
    const text = await run(['backups']);
    expect(text.stdout).toContain(`GAP: 1 segment(s) missing, ${segments[1]}`);
    // The RPO it is compared with is RECOVER_RPO_MINUTES, not a fixed 15 min.
    const daily = await runCli(['backups'], { ...sandbox.cliEnv(), RECOVER_RPO_MINUTES: '1440' });
    expect(daily.stdout).toMatch(/^RPO exposure: \d+ s since the newest archived WAL \(within the 24 h RPO\)$/m);
  });

  test('recover pitr --dry-run shows the plan; a target behind the gap exits 3 (refused) with the reason', async () => {
    const ok = await run(['pitr', '--at', beforeBatch[0]!.toISOString(), '--dry-run', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).result.requiredSegments.at(-1)).toBe(segments[0]);
    const refused = await run(['pitr', '--at', times[2]!.toISOString(), '--dry-run']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('WAL_GAP');
    expect(refused.stderr).toContain(segments[1]);
    // The dry run makes the runner's checks too: the time offered is read from the WAL.
    expect(refused.stderr).toMatch(/newest time that restores is \d{4}-\S+\+00:00/);

  });

  test('recover preflight reads production, storage and the disks: the gap fails WAL continuity (exit 1); a missing part fails the backup check', async () => {
    const { code, stdout } = await run(['preflight', '--json']);
    expect(code).toBe(1);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ ok: false, code: 'VERIFY_FAILED' });
    const check = (name: string) => out.result.checks.find((c: { name: string }) => c.name === name);
    expect(check('wal_level')).toMatchObject({ status: 'pass', detail: 'replica' });
    expect(check('archive_mode').status).toBe('pass');
    expect(check('roles')).toMatchObject({ status: 'pass', detail: expect.stringContaining('superuser') });
    expect(check('base backups')).toMatchObject({ status: 'pass', detail: expect.stringContaining('every part present with its size') });
    expect(check('WAL continuity')).toMatchObject({ status: 'fail', detail: expect.stringContaining(`gap at ${segments[1]}`) });
    expect(check('space for a side restore').status).toBe('pass');
    const text = await run(['preflight']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^Preflight: FAIL/);
    expect(text.stdout).toContain(`FAIL  WAL continuity: gap at ${segments[1]}`);

    // One part of the newest backup gone from storage: named, and put back afterwards.
    const [backup] = (await readCatalog(sandbox.storage, new Date())).backups;
    const key = `${sandbox.storage.backupPrefix}${backup!.id}/${backup!.files[0]!.name}`;
    const chunks: Buffer[] = [];
    for await (const chunk of await sandbox.storage.backups.getStream(key)) chunks.push(chunk as Buffer);
    await sandbox.storage.backups.delete(key);
    try {
      const missing = JSON.parse((await run(['preflight', '--json'])).stdout);
      expect(missing.result.checks.find((c: { name: string }) => c.name === 'base backups')).toMatchObject({ status: 'fail', detail: expect.stringContaining(`${backup!.files[0]!.name} is missing`) });
    } finally {
      await sandbox.storage.backups.put(key, Buffer.concat(chunks));
    }
  });

  test('recover backup takes another base backup with a complete manifest; its log lines only when LOG_LEVEL asks', async () => {
    // LOG_LEVEL unset: stderr is for people (progress, errors), so the info lines a backup logs (how it reads the source) stay out.
    const { code, stdout, stderr } = await runCli(['backup', '--json'], { ...sandbox.cliEnv(), LOG_LEVEL: undefined });
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/^\{"level":/m);
    const manifest = JSON.parse(stdout).result;
    expect(manifest).toMatchObject({ formatVersion: 2, timeline: 1, serverVersionNum: expect.any(Number) });
    expect(manifest.files[0]).toMatchObject({ name: 'base/part-00001.tar.zst', codec: 'zstd', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), rawBytes: expect.any(Number) });
    const catalog = await readCatalog(sandbox.storage, new Date());
    expect(catalog.backups.map((b) => b.id)).toContain(manifest.id);
    const logged = await runCli(['backup', '--json'], { ...sandbox.cliEnv(), LOG_LEVEL: 'info' });
    expect(logged.code).toBe(0);
    expect(logged.stderr).toMatch(/^\{"level":30,.*"msg":"(file-level base backup started|base backup streams through pg_basebackup)/m);
  });
});

test('the RPO watch reads archiving as failing while archive_command fails, and ok once it is repaired', async () => {
  const rpo = 900;
  const look = async () => assess(await readArchivingFacts(sandbox.config, sandbox.storage, new Date(), createLogger('silent')), rpo);
  let last: Assessment | undefined;
  const lookFor = (state: Assessment['state']) => until(`archiving to read ${state}`, async () => {
    last = await look();
    return last.state === state ? last : undefined;
  }, 90_000).catch((error: unknown) => Promise.reject(new Error(`${String(error)}; last seen: ${JSON.stringify(last)}`)));
  expect((await look()).state).toBe('ok');
  // The sandbox's own archive_command lives in postgresql.auto.conf: put back as it was, not RESET.
  const [{ setting }] = (await sandbox.query("SELECT setting FROM pg_settings WHERE name = 'archive_command'")) as [{ setting: string }];
  await sandbox.query("ALTER SYSTEM SET archive_command = 'false'");
  try {
    await sandbox.query('SELECT pg_reload_conf()');
    await sandbox.query('INSERT INTO t VALUES (10001)');
    await sandbox.query('SELECT pg_switch_wal()');
    // Just after a switch pg_walfile_name names the segment before the boundary; a record moves past it.
    await sandbox.query('INSERT INTO t VALUES (10002)');
    const failing = await lookFor('failing');
    expect(failing.reasons[0]).toMatch(/^archiving fails: \d+ failures? so far, the last at .*\(WAL [0-9A-F]{24}\)$/);
    expect(failing.backlog).toBeGreaterThanOrEqual(1);
  } finally {
    await sandbox.query(`ALTER SYSTEM SET archive_command = '${setting.replaceAll("'", "''")}'`);
    await sandbox.query('SELECT pg_reload_conf()');
  }
  await sandbox.query('SELECT pg_switch_wal()');
  expect((await lookFor('ok')).reasons).toEqual([]);
}, 120_000);
