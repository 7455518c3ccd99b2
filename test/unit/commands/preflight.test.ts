import { describe, expect, it } from 'vitest';
import { preflightChecks, segmentsBehind, type PreflightFacts, type ProductionFacts } from '../../../commands/preflight/checks.js';
import { restoreBytesNeeded } from '../../../src/engine/space.js';
import { preflightReport, preflightText, preflight } from '../../../commands/preflight/index.js';
import { productionFactsOf } from '../../../commands/preflight/facts.js';

const SOCKET = '/run/recover-bot/wal-agent.sock';
const healthy: ProductionFacts = {
  walLevel: 'replica',
  archiveMode: 'on',
  archiveCommand: `/usr/bin/node /usr/lib/recover-bot/wal-hook.mjs push ${SOCKET} "%p" "%f"`,
  inRecovery: false,
  currentWal: '000000010000000000000010',
  archiver: { archivedCount: 15, lastArchivedWal: '00000001000000000000000F', lastArchivedTime: '2026-12-06T10:00:00.000Z', failedCount: 0, lastFailedWal: null, lastFailedTime: null },
  role: { name: 'recover', superuser: false, replication: true, createDb: true, readAllSettings: true, signalBackend: true, backupFunctions: true },
};
const facts = (patch: Partial<PreflightFacts> = {}): PreflightFacts => ({
  production: healthy,
  storage: null,
  backups: { newest: { id: '20261206T000000Z', stopTime: '2026-12-06T00:01:00Z', databaseBytes: 4e9, problems: [] }, count: 3, unreadable: [] },
  walGapAt: null,
  walReachesTo: '00000001000000000000000F',
  walBytesSinceBackup: 1e9,
  rpoExposureSeconds: 120,
  rpoObjectiveSeconds: 900,
  agentSocket: SOCKET,
  segmentSize: 16 * 1024 * 1024,
  restoreRoot: { path: '/var/lib/recover-bot/restores', freeBytes: 100e9 },
  dataDir: { path: '/var/lib/postgresql/15', freeBytes: 100e9 },
  ...patch,
});
const statusOf = (f: PreflightFacts, name: string) => preflightChecks(f).find((c) => c.name === name);

describe('preflight checks', () => {
  it('all pass on a healthy setup', () => {
    const report = preflightReport(facts());
    expect(report.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(report.status).toBe('pass');
    expect(preflight.reportVerdict!(report)).toBeNull();
  });

  it.each<[string, Partial<ProductionFacts>, string, 'fail' | 'warn', RegExp]>([
    ['wal_level minimal', { walLevel: 'minimal' }, 'wal_level', 'fail', /restart/],
    ['archive_mode off', { archiveMode: 'off' }, 'archive_mode', 'fail', /RESTART \(a reload is not enough\)/],
    ['archive_command empty', { archiveCommand: '' }, 'archive_command', 'fail', /recover wal-agent/],
    ['archive_command another tool', { archiveCommand: 'pgbackrest --stanza=main archive-push %p' }, 'archive_command', 'warn', /recover wal-agent/],
    ['archive_command hidden', { archiveCommand: null }, 'archive_command', 'warn', /GRANT pg_read_all_settings TO recover/],
    ['archiver failing', { archiver: { ...healthy.archiver, failedCount: 3, lastFailedWal: '000000010000000000000010', lastFailedTime: '2026-12-06T10:05:00.000Z' } }, 'archiver', 'fail', /server log/],
    ['archiver behind', { currentWal: '000000010000000000000020' }, 'archiver', 'warn', /slower/],
    ['no backup rights', { role: { ...healthy.role, backupFunctions: false } }, 'roles', 'fail', /README/],
    ['no createdb', { role: { ...healthy.role, createDb: false } }, 'roles', 'warn', /README/],
  ])('%s → %s %s', (_what, patch, name, status, fix) => {
    const check = statusOf(facts({ production: { ...healthy, ...patch } }), name)!;
    expect(check.status).toBe(status);
    expect(check.fix).toMatch(fix);
  });

  it('the archive_command of recover wal-push counts as this tool', () => {
    expect(statusOf(facts({ production: { ...healthy, archiveCommand: 'recover wal-push %p %f' } }), 'archive_command')!.status).toBe('pass');
  });

  it('a superuser needs no grants', () => {
    const role = { name: 'postgres', superuser: true, replication: false, createDb: false, readAllSettings: false, signalBackend: false, backupFunctions: false };
    expect(statusOf(facts({ production: { ...healthy, role } }), 'roles')!.status).toBe('pass');
  });

  it('production unreachable: one failing check pointing at crash/disk, the rest skipped', () => {
    const checks = preflightChecks(facts({ production: { error: 'connect ECONNREFUSED' } }));
    expect(checks[0]).toMatchObject({ name: 'production', status: 'fail' });
    expect(checks[0]!.fix).toMatch(/\/recover crash or \/recover disk/);
    expect(checks.filter((c) => c.status === 'skip').map((c) => c.name)).toEqual(['wal_level', 'archive_mode', 'archive_command', 'archiver', 'roles']);
  });

  it('storage: unreachable, no backup, an incomplete newest backup, a WAL gap, RPO broken', () => {
    expect(statusOf(facts({ storage: { error: 'ECONNREFUSED' } }), 'storage')!.status).toBe('fail');
    expect(statusOf(facts({ backups: { newest: null, count: 0, unreadable: [] } }), 'base backups')!.fix).toMatch(/recover backup/);
    const incomplete = statusOf(facts({ backups: { newest: { id: 'b', stopTime: 't', databaseBytes: 1, problems: ['base/part-00001.tar.zst is missing'] }, count: 1, unreadable: [] } }), 'base backups')!;
    expect(incomplete).toMatchObject({ status: 'fail' });
    expect(incomplete.detail).toContain('part-00001.tar.zst is missing');
    expect(statusOf(facts({ walGapAt: '000000010000000000000009' }), 'WAL continuity')).toMatchObject({ status: 'fail', detail: expect.stringContaining('000000010000000000000009') });
    expect(statusOf(facts({ rpoExposureSeconds: 3600 }), 'RPO exposure')).toMatchObject({ status: 'fail', detail: expect.stringContaining('60 min old, above the 15 min objective') });
  });

  it('space: a side restore that cannot fit fails; an in-place one that cannot keep the old directory warns', () => {
    const tight = facts({ restoreRoot: { path: '/r', freeBytes: 3e9 }, dataDir: { path: '/d', freeBytes: 3e9 } });
    expect(statusOf(tight, 'space for a side restore')).toMatchObject({ status: 'fail', detail: expect.stringContaining('need about 5.5 GB') });
    expect(statusOf(tight, 'space for an in-place restore')!.status).toBe('warn');
    expect(restoreBytesNeeded(4e9, 1e9)).toBe(5.5e9);
  });

  it('segmentsBehind compares on one timeline only', () => {
    expect(segmentsBehind('000000010000000000000010', '00000001000000000000000E', 16 * 1024 * 1024)).toBe(2);
    expect(segmentsBehind('000000020000000000000010', '00000001000000000000000E', 16 * 1024 * 1024)).toBeNull();
    expect(segmentsBehind(null, '00000001000000000000000E', 16 * 1024 * 1024)).toBeNull();
  });

  it('report text and verdict: FAIL lines with their fix; the CLI exits 1', () => {
    const report = preflightReport(facts({ walGapAt: '000000010000000000000009' }));
    expect(report.status).toBe('fail');
    const text = preflightText(report);
    expect(text).toMatch(/^Preflight: FAIL \(1 failed, 0 warning\(s\), \d+ passed\)/);
    expect(text).toContain('FAIL  WAL continuity: gap at 000000010000000000000009');
    expect(text).toContain('      → Take a new base backup now');
    expect(preflight.reportVerdict!(report)).toMatchObject({ code: 'VERIFY_FAILED', message: 'Preflight failed: WAL continuity.' });
  });

  it('maps the query row', () => {
    const row = { wal_level: 'replica', archive_mode: 'on', archive_command: null, in_recovery: false, current_wal: 'X', archived_count: 2, last_archived_wal: 'Y', last_archived_time: new Date('2026-12-06T10:00:00Z'), failed_count: 0, last_failed_wal: null, last_failed_time: null, role_name: 'r', superuser: false, replication: true, create_db: false, read_all_settings: true, signal_backend: false, backup_functions: true };
    expect(productionFactsOf(row)).toMatchObject({ archiveCommand: null, archiver: { lastArchivedTime: '2026-12-06T10:00:00.000Z', archivedCount: 2 }, role: { name: 'r', createDb: false, backupFunctions: true } });
  });
});
