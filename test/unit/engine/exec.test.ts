import { describe, expect, it } from 'vitest';
import { commandFor, toolFailure } from '../../../src/engine/exec.js';

describe('commandFor', () => {
  it.each<[string, string | undefined, number, [string, string[]]]>([
    ['root running as postgres → runuser', 'postgres', 0, ['runuser', ['-u', 'postgres', '--', '/usr/lib/postgresql/15/bin/pg_ctl', 'start', '--pgdata', '/d']]],
    ['root with no user → as is', undefined, 0, ['/usr/lib/postgresql/15/bin/pg_ctl', ['start', '--pgdata', '/d']]],
    ['root asked to run as root → as is', 'root', 0, ['/usr/lib/postgresql/15/bin/pg_ctl', ['start', '--pgdata', '/d']]],
    ['non-root → as is', 'postgres', 1000, ['/usr/lib/postgresql/15/bin/pg_ctl', ['start', '--pgdata', '/d']]],
    ['unknown uid (-1) → as is', 'postgres', -1, ['/usr/lib/postgresql/15/bin/pg_ctl', ['start', '--pgdata', '/d']]],
    ['empty user → as is', '', 0, ['/usr/lib/postgresql/15/bin/pg_ctl', ['start', '--pgdata', '/d']]],
  ])('%s', (_name, asUser, uid, expected) => {
    expect(commandFor('/usr/lib/postgresql/15/bin/pg_ctl', ['start', '--pgdata', '/d'], asUser, uid)).toEqual(expected);
  });

  it('keeps hostile arguments as separate words after --', () => {
    expect(commandFor('tar', ['--file', '-', '; rm -rf /'], 'postgres', 0)).toEqual(['runuser', ['-u', 'postgres', '--', 'tar', '--file', '-', '; rm -rf /']]);
  });
});

describe('toolFailure', () => {
  it.each([
    ['cancelled', { isCanceled: true }, 'CANCELLED', 'pg_ctl was stopped because the job was cancelled.'],
    ['timed out', { timedOut: true, exitCode: 1 }, 'COMMAND_FAILED', 'pg_ctl did not finish in time and was stopped.'],
    [
      'last stderr line',
      { exitCode: 2, stderr: 'pg_ctl: waiting\npg_ctl: could not start server\n\n', shortMessage: 'Command failed' },
      'COMMAND_FAILED',
      'pg_ctl failed (exit 2): pg_ctl: could not start server',
    ],
    ['no stderr', { exitCode: 127, stderr: '', shortMessage: 'Command failed with ENOENT' }, 'COMMAND_FAILED', 'pg_ctl failed (exit 127): Command failed with ENOENT'],
    ['no exit code', { shortMessage: 'spawn failed' }, 'COMMAND_FAILED', 'pg_ctl failed (exit ?): spawn failed'],
  ])('%s', (_name, details, code, message) => {
    const error = toolFailure('/usr/lib/postgresql/15/bin/pg_ctl', details);
    expect(error.code).toBe(code);
    expect(error.message).toBe(message);
    expect(error.cause).toBe(details);
  });
});
