import { describe, expect, it } from 'vitest';
import { formatBackups, formatPitr, formatSelection } from '../../../src/cli/format.js';
import { selectRestore } from '../../../src/catalog/select-restore.js';
import { coverage, rpoExposureSeconds } from '../../../src/catalog/coverage.js';
import type { PitrResult } from '../../../src/engine/pitr.js';
import { at, catalog, linearCatalog, SEG } from '../catalog/catalog-fixtures.js';

describe('formatBackups', () => {
  it('lists backups, unusable ones, per-timeline coverage with gaps, and the RPO', () => {
    const cat = linearCatalog({ drop: [4, 5] });
    const text = formatBackups(cat.backups, coverage(cat, SEG), rpoExposureSeconds(cat, at(52)), [{ id: '20250114T100000Z', reason: 'no manifest.json (interrupted or foreign upload)' }]);
    expect(text.split('\n')).toEqual([
      'Base backups:',
      '  20250115T100000Z  timeline 1  0/2000028 → 0/2000138  2025-01-15T10:00:00.000Z → 2025-01-15T10:01:00.000Z  12.0 MiB compressed',
      '  20250115T102900Z  timeline 1  0/6000028 → 0/7000100  2025-01-15T10:29:00.000Z → 2025-01-15T10:31:00.000Z  12.0 MiB compressed',
      '  20250114T100000Z  UNUSABLE: no manifest.json (interrupted or foreign upload)',
      'WAL archive:',
      '  timeline 1: 7 segments 000000010000000000000002 … 00000001000000000000000A',
      '    restorable: 2025-01-15T10:01:00.000Z … 2025-01-15T10:50:00.000Z',
      '    GAP: 2 segment(s) missing, 000000010000000000000004 … 000000010000000000000005',
      'RPO exposure: 120 s since the newest archived WAL',
    ]);
  });

  it('compares the exposure with the configured RPO (RECOVER_RPO_MINUTES) when given one', () => {
    const cat = linearCatalog();
    const within = formatBackups(cat.backups, coverage(cat, SEG), 120, [], 15 * 60);
    expect(within.split('\n').at(-1)).toBe('RPO exposure: 120 s since the newest archived WAL (within the 15 min RPO)');
    const beyond = formatBackups(cat.backups, coverage(cat, SEG), 7200, [], 60 * 60);
    expect(beyond.split('\n').at(-1)).toBe('RPO exposure: 7200 s since the newest archived WAL (EXCEEDS the 1 h RPO: is archiving stuck? see pg_stat_archiver)');
    expect(formatBackups([], [], null, [], 900).split('\n').at(-1)).toBe('RPO exposure: unknown (nothing archived)');
  });

  it('says so when there is nothing', () => {
    expect(formatBackups([], [], null, [])).toBe(['Base backups:', '  (none)', 'WAL archive:', '  (empty)', 'RPO exposure: unknown (nothing archived)'].join('\n'));
  });

  it('a timeline with nothing restorable says nothing', () => {
    const cat = catalog([], linearCatalog().wal.segments.slice(0, 1));
    expect(formatBackups([], coverage(cat, SEG), 0, [])).toContain('    restorable: nothing … nothing');
  });
});

describe('formatSelection', () => {
  it('names the backup, WAL range and size, target timeline and window', () => {
    const selection = selectRestore(linearCatalog(), { kind: 'time', time: at(20, 30), raw: '' });
    expect(formatSelection(selection)).toBe(
      [
        'Base backup: 20250115T100000Z (stopped 2025-01-15T10:01:00.000Z, timeline 1)',
        'WAL: 4 segments 000000010000000000000002 … 000000010000000000000005 (64.0 MiB), target timeline 1',
        'Restorable window: 2025-01-15T10:01:00.000Z … 2025-01-15T10:50:00.000Z',
      ].join('\n'),
    );
  });
});

describe('formatPitr', () => {
  const result: PitrResult = {
    backupId: '20250115T100000Z',
    target: 'time 2025-01-15T10:20:30.000Z',
    state: 'promoted',
    reachedTime: '2025-01-15 10:20:29.871+00',
    replayLsn: '0/5000A00',
    timeline: 2,
    dataDir: '/var/lib/recover-bot/restores/pitr-20250115T110000Z/data',
    port: 6543,
    socketDir: '/var/lib/recover-bot/restores/pitr-20250115T110000Z/run',
    connect: 'psql -h /var/lib/recover-bot/restores/pitr-20250115T110000Z/run -p 6543 -U postgres',
    oldDataDir: null,
    walSegments: 4,
    fetched: { downloaded: 5, bytes: 5 * SEG, onDemand: 0, renamedBySpool: 5, servedByAgent: 0, waitedMs: 0 },
    seconds: { total: 61.26, baseBackup: 12.04, replay: 40.55 },
    report: {
      ok: false,
      checks: [
        { name: 'connect', ok: true, message: 'accepts connections' },
        { name: 'public.orders', ok: false, message: 'no rows' },
      ],
      databases: [],
    },
  };

  it('side instance: outcome, where it stopped, timings, how to connect, each check', () => {
    expect(formatPitr(result).split('\n')).toEqual([
      'Restored backup 20250115T100000Z to time 2025-01-15T10:20:30.000Z: promoted.',
      'Reached: 2025-01-15 10:20:29.871+00  (LSN 0/5000A00, new timeline 2)',
      'Took 61.3 s (base backup 12.0 s, replay 40.5 s), 4 WAL segments.',
      'Data directory: /var/lib/recover-bot/restores/pitr-20250115T110000Z/data',
      'Connect: psql -h /var/lib/recover-bot/restores/pitr-20250115T110000Z/run -p 6543 -U postgres',
      'Verification: FAILED',
      '  ✓ connect: accepts connections',
      '  ✗ public.orders: no rows',
    ]);
  });

  it('in place: the kept old data directory, nothing replayed, passed', () => {
    const text = formatPitr({ ...result, reachedTime: null, oldDataDir: '/data.before-pitr-20250115T110000Z', report: { ok: true, checks: [], databases: [] } });
    expect(text).toContain('Reached: no transaction replayed  (LSN 0/5000A00, new timeline 2)');
    expect(text).toContain('Previous data directory kept at: /data.before-pitr-20250115T110000Z');
    expect(text.endsWith('Verification: passed')).toBe(true);
  });
});
