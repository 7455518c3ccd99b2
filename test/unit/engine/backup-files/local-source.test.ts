import { describe, expect, it } from 'vitest';
import { localMismatch, parsePostmasterPid, pgControlSystemIdentifier, type ServerIdentity } from '../../../../src/engine/backup-files/local-source.js';
import { parseBackupLabel } from '../../../../src/engine/backup-files/file-backup.js';
import { fileListInput, vanishedPaths } from '../../../../src/engine/backup-files/file-parts.js';

const pidFile = ['4242', '/var/lib/postgresql/15/main', '1764460800', '5433', '/var/run/postgresql', '*', '  5433001    163842', 'ready   ', ''].join('\n');
const server: ServerIdentity = { dataDirectory: '/var/lib/postgresql/15/main', systemIdentifier: '7441234567890123456', port: 5433, startEpochSeconds: 1764460800.42 };
const controlOf = (id: bigint) => {
  const bytes = Buffer.alloc(16);
  bytes.writeBigUInt64LE(id, 0);
  return bytes;
};

describe('the local data directory is the connected server’s', () => {
  it('parses postmaster.pid', () => {
    expect(parsePostmasterPid(pidFile)).toEqual({ dataDirectory: '/var/lib/postgresql/15/main', startEpochSeconds: 1764460800, port: 5433 });
    expect(parsePostmasterPid('')).toBeNull();
    expect(parsePostmasterPid('12\n/d\nnot-a-time\n5432\n')).toBeNull();
  });

  it('reads the system identifier from pg_control’s first 8 bytes', () => {
    expect(pgControlSystemIdentifier(controlOf(7441234567890123456n))).toBe('7441234567890123456');
    expect(pgControlSystemIdentifier(Buffer.alloc(4))).toBeNull();
  });

  const local = { pid: parsePostmasterPid(pidFile), systemIdentifier: '7441234567890123456' };
  it('accepts the same directory, system identifier, port and start time (within 2 s)', () => {
    expect(localMismatch(server, local)).toBeNull();
    expect(localMismatch({ ...server, startEpochSeconds: 1764460801.9 }, local)).toBeNull();
  });

  it.each<[string, ServerIdentity, typeof local, RegExp]>([
    ['another cluster', server, { ...local, systemIdentifier: '1' }, /system identifier 1, the server 7441234567890123456/],
    ['a standby of the same cluster on this host (its own port)', { ...server, port: 5432 }, local, /port 5433, the server listens on 5432/],
    ['a restarted or other postmaster', { ...server, startEpochSeconds: 1764460900 }, local, /started at another time/],
    ['a directory the pid file does not name', { ...server, dataDirectory: '/srv/pg' }, local, /postmaster\.pid names \/var\/lib\/postgresql\/15\/main/],
    ['no running server', server, { ...local, pid: null }, /postmaster\.pid is missing/],
  ])('refuses %s', (_name, identity, files, reason) => {
    expect(localMismatch(identity, files)).toMatch(reason);
  });
});

describe('backup_label', () => {
  it('gives the start point and timeline', () => {
    const label = 'START WAL LOCATION: 0/9000028 (file 000000020000000000000009)\nCHECKPOINT LOCATION: 0/9000060\nBACKUP METHOD: streamed\nBACKUP FROM: primary\nSTART TIME: 2026-11-30 01:00:00 UTC\nLABEL: recover-bot x\nSTART TIMELINE: 2\n';
    expect(parseBackupLabel(label)).toEqual({ startLsn: '0/9000028', timeline: 2 });
    expect(parseBackupLabel('LABEL: x\n')).toBeNull();
  });
});

describe('bsdtar complaints', () => {
  it('tells files that vanished from every other complaint', () => {
    const stderr = [
      'bsdtar: ./base/16384/16390: Cannot stat: No such file or directory',
      "bsdtar: ./base/16384/16391: Couldn't open ./base/16384/16391: No such file or directory",
      'bsdtar: ./global/1262: Cannot stat: Permission denied',
      'bsdtar: Error exit delayed from previous errors.',
      '',
    ].join('\n');
    expect(vanishedPaths(stderr)).toEqual({
      vanished: ['./base/16384/16390', './base/16384/16391'],
      other: ['bsdtar: ./global/1262: Cannot stat: Permission denied'],
    });
  });

  it('lists paths NUL-separated, each behind ./ so none reads as an option', () => {
    expect(fileListInput(['-C', 'base/1/1259']).toString()).toBe('./-C\0./base/1/1259\0');
  });
});
