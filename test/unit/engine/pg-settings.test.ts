import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { confQuote, recoverySettings, renderConf, replayOnlySettings, shellQuote, spoolRestoreCommand, type RecoverySettingsInput, type ReplayTuning } from '../../../src/engine/pg-settings.js';
import { timeTarget } from '../../../src/catalog/targets.js';
import type { RecoveryTarget } from '../../../src/types.js';

describe('confQuote', () => {
  it.each([
    ['plain', "'plain'"],
    ['', "''"],
    ["it's", "'it''s'"],
    ["''", "''''''"],
    ['C:\\dir', "'C:\\\\dir'"],
    ["a\\'b", "'a\\\\''b'"],
    ['%f "%p"', `'%f "%p"'`],
  ])('%j → %s', (value, quoted) => {
    expect(confQuote(value)).toBe(quoted);
  });
});

describe('shellQuote', () => {
  it.each([
    ['/var/lib/spool', "'/var/lib/spool'"],
    ['', "''"],
    ["it's", `'it'\\''s'`],
    ['$(rm -rf /) `x` "y"', `'$(rm -rf /) \`x\` "y"'`],
    ['back\\slash', "'back\\slash'"],
  ])('%j → %s', (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
  });
});

describe('replayOnlySettings', () => {
  const MIB = 1024 * 1024;
  const often = { checkpoint_timeout: '1d', max_wal_size: '256MB', wal_recycle: 'off' };
  it.each<[string, ReplayTuning, Record<string, string>]>([
    ['a side instance that promotes: synced and restarted before anyone uses it', { syncBeforeHandover: true, walSegmentSize: 16 * MIB }, { ...often, fsync: 'off' }],
    ['in place, or paused: fsync stays as production has it', { syncBeforeHandover: false, walSegmentSize: 16 * MIB }, often],
    // PostgreSQL refuses to start with max_wal_size under two segments.
    ['64 MiB segments: restartpoints every 16 segments', { syncBeforeHandover: true, walSegmentSize: 64 * MIB }, { ...often, max_wal_size: '1024MB', fsync: 'off' }],
    ['1 GiB segments', { syncBeforeHandover: false, walSegmentSize: 1024 * MIB }, { ...often, max_wal_size: '16384MB' }],
    ['1 MiB segments: still 256MB', { syncBeforeHandover: false, walSegmentSize: MIB }, often],
  ])('%s', (_name, tuning, expected) => {
    expect(replayOnlySettings(tuning)).toEqual(expected);
  });

  it('renders as its own block that can be found and removed again', () => {
    const block = renderConf(replayOnlySettings({ syncBeforeHandover: true, walSegmentSize: 16 * MIB }), 'replay only');
    expect(block).toBe("\n# replay only\ncheckpoint_timeout = '1d'\nmax_wal_size = '256MB'\nwal_recycle = 'off'\nfsync = 'off'\n");
  });
});

const base = { inclusive: true, action: 'promote', restoreCommand: 'cp /a/%f %p', archiving: 'keep' } as const;
const common = { restore_command: 'cp /a/%f %p', recovery_target_timeline: 'latest' };

describe('recoverySettings', () => {
  it.each<[string, RecoveryTarget, Partial<RecoverySettingsInput>, Record<string, string>]>([
    [
      'time, inclusive',
      timeTarget('2025-01-15T14:29:59.250Z'),
      {},
      { ...common, recovery_target_time: '2025-01-15 14:29:59.250+00:00', recovery_target_action: 'promote', recovery_target_inclusive: 'on' },
    ],
    [
      'time, exclusive, pause',
      timeTarget('2025-01-15 19:59:59+0530'),
      { inclusive: false, action: 'pause' },
      { ...common, recovery_target_time: '2025-01-15 19:59:59+05:30', recovery_target_action: 'pause', recovery_target_inclusive: 'off' },
    ],
    // Issue 6 item 1: microseconds reach PostgreSQL (a JS Date would have cut them to .120).
    [
      'time with microseconds',
      timeTarget('2025-01-15T14:29:10.120555+00'),
      {},
      { ...common, recovery_target_time: '2025-01-15 14:29:10.120555+00:00', recovery_target_action: 'promote', recovery_target_inclusive: 'on' },
    ],
    [
      'time built from a Date alone (raw empty): exact to the millisecond',
      { kind: 'time', time: new Date('2025-01-15T14:29:59.250Z'), raw: '' },
      {},
      { ...common, recovery_target_time: '2025-01-15 14:29:59.250+00:00', recovery_target_action: 'promote', recovery_target_inclusive: 'on' },
    ],
    ['xid', { kind: 'xid', xid: '73519' }, {}, { ...common, recovery_target_xid: '73519', recovery_target_action: 'promote', recovery_target_inclusive: 'on' }],
    [
      'lsn',
      { kind: 'lsn', lsn: (0x16n << 32n) | 0xb374d848n },
      { inclusive: false },
      { ...common, recovery_target_lsn: '16/B374D848', recovery_target_action: 'promote', recovery_target_inclusive: 'off' },
    ],
    ['name (no inclusive)', { kind: 'name', name: 'before_migration' }, {}, { ...common, recovery_target_name: 'before_migration', recovery_target_action: 'promote' }],
    ['immediate (no inclusive)', { kind: 'immediate' }, { action: 'pause' }, { ...common, recovery_target: 'immediate', recovery_target_action: 'pause' }],
    ['latest (no target, no action)', { kind: 'latest' }, { inclusive: false, action: 'pause' }, { ...common }],
  ])('%s', (_name, target, overrides, expected) => {
    expect(recoverySettings({ ...base, ...overrides, target })).toEqual(expected);
  });

  it('side instance: listens where told and archiving is off', () => {
    const settings = recoverySettings({
      ...base,
      target: { kind: 'latest' },
      archiving: 'off',
      listen: { port: 6543, socketDir: '/restores/pitr-1/run', addresses: '127.0.0.1' },
    });
    expect(settings).toEqual({
      ...common,
      port: '6543',
      unix_socket_directories: '/restores/pitr-1/run',
      listen_addresses: '127.0.0.1',
      archive_mode: 'off',
      archive_command: '',
    });
  });

  it('in place: no listen keys and archiving untouched', () => {
    const settings = recoverySettings({ ...base, target: { kind: 'immediate' } });
    for (const key of ['port', 'unix_socket_directories', 'listen_addresses', 'archive_mode', 'archive_command']) expect(settings).not.toHaveProperty(key);
  });
});

describe('renderConf', () => {
  it('quotes strings, leaves integers bare, and frames the block with a header', () => {
    const text = renderConf(
      {
        restore_command: "cp '/a b/%f' \"%p\"",
        recovery_target_xid: '73519',
        port: '6543',
        archive_command: '',
        recovery_target_time: '2025-01-15 14:29:59.000+00',
        recovery_target_lsn: '0/3000028',
      },
      'recover-bot PITR 2025-01-15',
    );
    expect(text).toBe(
      [
        '',
        '# recover-bot PITR 2025-01-15',
        `restore_command = 'cp ''/a b/%f'' "%p"'`,
        'recovery_target_xid = 73519',
        'port = 6543',
        "archive_command = ''",
        "recovery_target_time = '2025-01-15 14:29:59.000+00'",
        "recovery_target_lsn = '0/3000028'",
        '',
      ].join('\n'),
    );
  });

  it('renders an empty block as just the header', () => {
    expect(renderConf({}, 'h')).toBe('\n# h\n\n');
  });
});

describe('spoolRestoreCommand', () => {
  it('renames from the spool, waits while a segment is planned, else execs the hook through the agent socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-restore-cmd-'));
    try {
      const spool = join(dir, 'spool');
      mkdirSync(join(dir, 'pg_wal'), { recursive: true });
      mkdirSync(spool);
      const hook = join(dir, 'hook.sh');
      writeFileSync(hook, `echo "agent $* " >> ${join(dir, 'agent.log')}; exit 1\n`);
      const command = spoolRestoreCommand({ spoolDir: spool, nodePath: '/bin/sh', hookPath: hook, socketPath: '/s.sock' });
      // PostgreSQL substitutes %f and %p, then runs the line with /bin/sh in the data directory.
      const line = (name: string) => command.replaceAll('%f', name).replaceAll('%p', 'pg_wal/RECOVERYXLOG');
      writeFileSync(join(spool, '000000010000000000000001'), 'segment one');
      expect(spawnSync('/bin/sh', ['-c', line('000000010000000000000001')], { cwd: dir }).status).toBe(0);
      expect(readFileSync(join(dir, 'pg_wal/RECOVERYXLOG'), 'utf8')).toBe('segment one');
      expect(spawnSync('/bin/sh', ['-c', line('00000002.history')], { cwd: dir }).status).toBe(1);
      expect(readFileSync(join(dir, 'agent.log'), 'utf8')).toBe('agent fetch /s.sock 00000002.history pg_wal/RECOVERYXLOG \n');
      // Planned but not there yet: the shell waits for it instead of starting the agent hook.
      writeFileSync(join(spool, '000000010000000000000002.planned'), '');
      setTimeout(() => writeFileSync(join(spool, '000000010000000000000002'), 'segment two'), 150);
      const waited = await new Promise<number | null>((resolve) => {
        spawn('/bin/sh', ['-c', line('000000010000000000000002')], { cwd: dir }).on('exit', (code) => resolve(code));
      });
      expect(waited).toBe(0);
      expect(readFileSync(join(dir, 'pg_wal/RECOVERYXLOG'), 'utf8')).toBe('segment two');
      expect(readFileSync(join(dir, 'agent.log'), 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('quotes hostile paths for the shell and survives postgresql.conf quoting', () => {
    const command = spoolRestoreCommand({ spoolDir: "/r/it's", nodePath: '/opt/node dir/node', hookPath: '/h.mjs', socketPath: '/s.sock' });
    expect(command).toContain(`f='/r/it'\\''s/'"%f";`);
    expect(command).toContain(`exec '/opt/node dir/node' '/h.mjs' fetch '/s.sock' "%f" "%p"`);
    expect(renderConf({ restore_command: command }, 'h')).toContain(`restore_command = 'f=''/r/it''\\\\''''s/''"%f";`);
  });
});
