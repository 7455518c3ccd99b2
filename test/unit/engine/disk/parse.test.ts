/** What `recover disk` reads from PostgreSQL's own files when the server may be down (pure parsers). */
import { describe, expect, it } from 'vitest';
import { configFileFromOpts, confSetting, logEvidence, mountOf, parseControlData, parseSlotState } from '../../../../src/engine/disk/parse.js';
import { classifyConnectFailure } from '../../../../src/engine/disk/server.js';
import { oldLogs } from '../../../../src/engine/disk/free.js';

// pg_controldata 15 of a server that PANICked on a full pg_wal (lines trimmed to those that matter).
const CONTROLDATA = `pg_control version number:            1300
Database cluster state:               in crash recovery
pg_control last modified:             Sun 06 Dec 2026 10:46:12 PM UTC
Latest checkpoint location:           0/2148E40
Latest checkpoint's REDO location:    0/211CA68
Latest checkpoint's REDO WAL file:    000000010000000000000021
Latest checkpoint's TimeLineID:       1
Latest checkpoint's PrevTimeLineID:   1
Time of latest checkpoint:            Sun 06 Dec 2026 10:46:11 PM UTC
Bytes per WAL segment:                1048576
`;

function slotState(name: string, database: number, restart: bigint, magic = 0x1051ca1): Buffer {
  const buffer = Buffer.alloc(200);
  buffer.writeUInt32LE(magic, 0);
  buffer.writeUInt32LE(2, 8);
  buffer.write(name, 16, 'utf8');
  buffer.writeUInt32LE(database, 80);
  buffer.writeBigUInt64LE(restart, 96);
  return buffer;
}

describe('parseControlData', () => {
  it('reads REDO, its segment, the timeline, the segment size and the state', () => {
    expect(parseControlData(CONTROLDATA)).toEqual({ clusterState: 'in crash recovery', redoLsn: '0/211CA68', redoSegment: '000000010000000000000021', timeline: 1, segmentBytes: 1048576, checkpointTime: 'Sun 06 Dec 2026 10:46:11 PM UTC' });
  });
  it('gives null rather than guess when the REDO segment is missing or malformed', () => {
    expect(parseControlData(CONTROLDATA.replace(/REDO WAL file:.*\n/, ''))).toBeNull();
    expect(parseControlData(CONTROLDATA.replace('000000010000000000000021', '00000001000000000000002'))).toBeNull();
  });
});

describe('parseSlotState', () => {
  it('a physical slot and its restart_lsn', () => {
    expect(parseSlotState(slotState('standby1', 0, 0x3_0000_0028n))).toEqual({ name: 'standby1', kind: 'physical', restartLsn: '3/28' });
  });
  it('a logical slot (a database oid); an invalidated one reserves nothing', () => {
    expect(parseSlotState(slotState('cdc', 16384, 0n))).toEqual({ name: 'cdc', kind: 'logical', restartLsn: null });
  });
  it('not a slot state file: null', () => {
    expect(parseSlotState(slotState('x', 0, 1n, 0xdeadbeef))).toBeNull();
    expect(parseSlotState(Buffer.alloc(50))).toBeNull();
  });
});

describe('postmaster.opts, configuration and log', () => {
  it('the config_file production was started with', () => {
    expect(configFileFromOpts('/usr/lib/postgresql/15/bin/postgres "-D" "/var/lib/postgresql/15/main" "-c" "config_file=/etc/postgresql/15/main/postgresql.conf"\n')).toBe('/etc/postgresql/15/main/postgresql.conf');
    expect(configFileFromOpts('/usr/lib/postgresql/15/bin/postgres "-D" "/srv/data"\n')).toBeNull();
    expect(configFileFromOpts('/usr/bin/postgres --config-file=/etc/pg.conf -D /srv/data')).toBe('/etc/pg.conf');
  });
  it('a setting: the last assignment, quotes removed, comments ignored', () => {
    expect(confSetting("#log_directory = 'x'\nlog_directory = 'pg_log'\nport = 5432\nlog_directory='/var/log/pg' # moved\n", 'log_directory')).toBe('/var/log/pg');
    expect(confSetting('port = 5432\n', 'log_directory')).toBeNull();
  });
  it('archive failures and the disk-full line from the server log', () => {
    const log = [
      '2026-12-06 22:46:01.100 UTC [1919] LOG:  archive command failed with exit code 1',
      '2026-12-06 22:46:01.100 UTC [1919] DETAIL:  The failed archive command was: false',
      '2026-12-06 22:46:11.957 UTC [1919] WARNING:  archiving write-ahead log file "000000010000000000000006" failed too many times, will try again later',
      '2026-12-06 22:46:12.096 UTC [3118] PANIC:  could not write to file "pg_wal/xlogtemp.3118": No space left on device',
    ].join('\n');
    const evidence = logEvidence(log);
    expect(evidence.archiveFailures).toMatchObject({ count: 2, first: '2026-12-06 22:46:01.100 UTC', last: '2026-12-06 22:46:11.957 UTC' });
    expect(evidence.diskFull).toMatchObject({ at: '2026-12-06 22:46:12.096 UTC' });
    expect(logEvidence('LOG: checkpoint complete\n')).toEqual({ archiveFailures: null, diskFull: null });
  });
  it('the mount point above a path: the longest, with /proc escapes', () => {
    const mounts = 'overlay / overlay rw 0 0\ntmpfs /tmp/rb-1/wal tmpfs rw 0 0\ntmpfs /mnt/my\\040wal tmpfs rw 0 0\n';
    expect(mountOf('/tmp/rb-1/wal/pg_wal', mounts)).toBe('/tmp/rb-1/wal');
    expect(mountOf('/tmp/rb-1/walnut', mounts)).toBe('/');
    expect(mountOf('/mnt/my wal/pg_wal', mounts)).toBe('/mnt/my wal');
  });
});

describe('server state and logs', () => {
  it('a live postmaster is "not answering" only for what a crash-looping server answers', () => {
    expect(classifyConnectFailure(Object.assign(new Error('the database system is in recovery mode'), { code: '57P03' })).state).toBe('not-answering');
    expect(classifyConnectFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).state).toBe('not-answering');
    expect(classifyConnectFailure(new Error('Connection terminated due to connection timeout')).state).toBe('not-answering');
    expect(classifyConnectFailure(Object.assign(new Error('password authentication failed'), { code: '28P01' })).state).toBe('unknown');
    expect(classifyConnectFailure(Object.assign(new Error('database "x" does not exist'), { code: '3D000' })).state).toBe('unknown');
  });
  it('old logs: older than the cutoff, never the newest', () => {
    const now = new Date('2026-12-06T12:00:00Z');
    const day = (n: number) => new Date(now.getTime() - n * 86_400_000).toISOString();
    const files = [{ name: 'a.log', bytes: 1, modified: day(30) }, { name: 'b.log', bytes: 2, modified: day(8) }, { name: 'c.log', bytes: 3, modified: day(1) }];
    expect(oldLogs(files, 7, now).map((f) => f.name)).toEqual(['a.log', 'b.log']);
    expect(oldLogs(files.slice(0, 1), 7, now)).toEqual([]);
  });
});
