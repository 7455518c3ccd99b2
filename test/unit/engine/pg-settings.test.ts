import { describe, expect, it } from 'vitest';
import { confQuote, recoverySettings, renderConf, shellQuote, spoolRestoreCommand, type RecoverySettingsInput } from '../../../src/engine/pg-settings.js';
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

const base = { inclusive: true, action: 'promote', restoreCommand: 'cp /a/%f %p', archiving: 'keep' } as const;
const common = { restore_command: 'cp /a/%f %p', recovery_target_timeline: 'latest' };

describe('recoverySettings', () => {
  it.each<[string, RecoveryTarget, Partial<RecoverySettingsInput>, Record<string, string>]>([
    [
      'time, inclusive',
      { kind: 'time', time: new Date('2025-01-15T14:29:59.250Z'), raw: 'x' },
      {},
      { ...common, recovery_target_time: '2025-01-15 14:29:59.250+00', recovery_target_action: 'promote', recovery_target_inclusive: 'on' },
    ],
    [
      'time, exclusive, pause',
      { kind: 'time', time: new Date('2025-01-15T19:59:59+05:30'), raw: 'x' },
      { inclusive: false, action: 'pause' },
      { ...common, recovery_target_time: '2025-01-15 14:29:59.000+00', recovery_target_action: 'pause', recovery_target_inclusive: 'off' },
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
  it('renames from the spool, else execs the hook through the agent socket', () => {
    expect(
      spoolRestoreCommand({ spoolDir: '/restores/pitr-1/spool', nodePath: '/usr/bin/node', hookPath: '/restores/pitr-1/wal-hook.mjs', socketPath: '/restores/pitr-1/wal.sock' }),
    ).toBe(
      `mv -f '/restores/pitr-1/spool/'"%f" "%p" 2>/dev/null || exec '/usr/bin/node' '/restores/pitr-1/wal-hook.mjs' fetch '/restores/pitr-1/wal.sock' "%f" "%p"`,
    );
  });

  it('quotes hostile paths for the shell and survives postgresql.conf quoting', () => {
    const command = spoolRestoreCommand({ spoolDir: "/r/it's", nodePath: '/opt/node dir/node', hookPath: '/h.mjs', socketPath: '/s.sock' });
    expect(command).toBe(`mv -f '/r/it'\\''s/'"%f" "%p" 2>/dev/null || exec '/opt/node dir/node' '/h.mjs' fetch '/s.sock' "%f" "%p"`);
    expect(renderConf({ restore_command: command }, 'h')).toBe(
      `\n# h\nrestore_command = 'mv -f ''/r/it''\\\\''''s/''"%f" "%p" 2>/dev/null || exec ''/opt/node dir/node'' ''/h.mjs'' fetch ''/s.sock'' "%f" "%p"'\n`,
    );
  });
});
