/**
 * Issue 17 item 2: what counts as a side instance this tool created, judged from facts
 * (instance-check.ts is pure; instances.ts reads the facts off the disk).
 */
import { describe, expect, it } from 'vitest';
import { judgeInstance, markerText, parseMarker, parsePidFile, type InstanceFacts } from '../../../src/engine/instance-check.js';

const ROOT = '/srv/restores';
const WORK = `${ROOT}/side-1`;
const DATA = `${WORK}/data`;
const RUN = `${WORK}/run`;
const PG = 105;
const RUNNER = 0;
const marker = (over: Record<string, unknown> = {}) => markerText({ name: 'side-1', id: 'abc123', createdAt: '2025-01-15T14:29:59.000Z', dataDir: DATA, ...over });
const pidText = (pid = 4242, dataDir = DATA, port = 5544, socketDir = RUN) => `${pid}\n${dataDir}\n1736951399\n${port}\n${socketDir}\n127.0.0.1\n  5544001    32769\nready   \n`;

/** A stopped instance exactly as createSideInstance leaves it. */
function facts(over: Partial<InstanceFacts> = {}): InstanceFacts {
  return {
    name: 'side-1',
    root: ROOT,
    workDir: { kind: 'directory', uid: PG, realPath: WORK },
    allowedOwners: [PG, RUNNER],
    runnerUid: RUNNER,
    marker: { kind: 'file', uid: RUNNER, mode: 0o100600, text: marker() },
    data: { kind: 'directory', uid: PG, realPath: DATA },
    run: { kind: 'directory', uid: PG, realPath: RUN },
    pidFile: { kind: 'missing' },
    socketPorts: [],
    ...over,
  };
}
const running = (over: Partial<InstanceFacts> = {}) => facts({ pidFile: { kind: 'file', uid: PG, text: pidText() }, processCwd: DATA, socketPorts: [5544], ...over });

describe('judgeInstance', () => {
  it('accepts a stopped instance this tool created', () => {
    expect(judgeInstance(facts())).toMatchObject({ ok: true, running: null, dataDir: DATA, socketDir: RUN, marker: { id: 'abc123' } });
  });

  it('accepts a running one: postmaster.pid names this data and socket directory, and its process runs in this data directory', () => {
    expect(judgeInstance(running())).toMatchObject({ ok: true, running: { pid: 4242, port: 5544, socket: true } });
    expect(judgeInstance(running({ socketPorts: [] }))).toMatchObject({ ok: true, running: { socket: false } });
  });

  it('a postmaster.pid left by a server that is gone: stopped, nothing to signal', () => {
    expect(judgeInstance(running({ processCwd: 'gone' }))).toMatchObject({ ok: true, running: null });
  });

  it('nothing there is "missing", not invalid', () => {
    expect(judgeInstance(facts({ workDir: { kind: 'missing' } }))).toMatchObject({ ok: false, missing: true });
  });

  it.each<[string, Partial<InstanceFacts>, RegExp]>([
    ['a symlink in the root (prodlink → production)', { workDir: { kind: 'symlink', linkTarget: '/var/lib/postgresql/15' } }, /symbolic link to \/var\/lib\/postgresql\/15/],
    ['a file, not a directory', { workDir: { kind: 'file', uid: PG } }, /not a directory/],
    ['a directory whose real path is elsewhere', { workDir: { kind: 'directory', uid: PG, realPath: '/var/lib/postgresql/15' } }, /resolves to \/var\/lib\/postgresql\/15/],
    ['owned by another user', { workDir: { kind: 'directory', uid: 1234, realPath: WORK } }, /owned by uid 1234/],
    ['no marker (made by hand, or before markers)', { marker: { kind: 'missing' } }, /has no recover-instance\.json/],
    ['a marker that is a symlink', { marker: { kind: 'symlink' } }, /symbolic link/],
    ['a marker that is a directory', { marker: { kind: 'directory', uid: RUNNER } }, /not a regular file/],
    ['a marker the postgres user wrote (forged)', { marker: { kind: 'file', uid: PG, mode: 0o100600, text: marker() } }, /owned by uid 105, not by the runner/],
    ['a marker others may write', { marker: { kind: 'file', uid: RUNNER, mode: 0o100666, text: marker() } }, /writable by others \(mode 666\)/],
    ['a marker that is not ours', { marker: { kind: 'file', uid: RUNNER, mode: 0o100600, text: '{"name":"side-1"}' } }, /not a marker this tool wrote/],
    ['a marker copied from another instance', { marker: { kind: 'file', uid: RUNNER, mode: 0o100600, text: marker({ name: 'other' }) } }, /belongs to the instance other/],
    ['a marker naming another data directory', { marker: { kind: 'file', uid: RUNNER, mode: 0o100600, text: marker({ dataDir: '/var/lib/postgresql/15/main' }) } }, /names the data directory \/var\/lib\/postgresql\/15\/main/],
    ['data is a symlink', { data: { kind: 'symlink', linkTarget: '/var/lib/postgresql/15/main' } }, /data directory is a symbolic link/],
    ['data resolves elsewhere', { data: { kind: 'directory', realPath: '/elsewhere' } }, /data directory resolves to \/elsewhere/],
    ['no run directory', { run: { kind: 'missing' } }, /no run directory/],
    ['run is a symlink to production\'s socket directory', { run: { kind: 'symlink', linkTarget: '/var/run/postgresql' } }, /run directory is a symbolic link/],
  ])('refuses %s', (_what, over, reason) => {
    const verdict = judgeInstance(facts(over));
    expect(verdict.ok).toBe(false);
    expect(verdict.ok === false && verdict.missing).toBe(false);
    expect(verdict.ok === false && verdict.reason).toMatch(reason);
  });

  it.each<[string, Partial<InstanceFacts>, RegExp]>([
    ['postmaster.pid copied from production (names its data directory)', { pidFile: { kind: 'file', text: pidText(4242, '/var/lib/postgresql/15/main') } }, /names the data directory \/var\/lib\/postgresql\/15\/main, not this instance's/],
    ['postmaster.pid naming production\'s socket directory', { pidFile: { kind: 'file', text: pidText(4242, DATA, 5432, '/var/run/postgresql') } }, /names the socket directory \/var\/run\/postgresql/],
    ['postmaster.pid edited to this data directory but naming production\'s process', { processCwd: '/var/lib/postgresql/15/main' }, /process 4242 .* runs in \/var\/lib\/postgresql\/15\/main/],
    ['a process /proc cannot tell about', { processCwd: 'unknown' }, /cannot tell where process 4242/],
    ['postmaster.pid as a symlink', { pidFile: { kind: 'symlink' } }, /postmaster\.pid is a symbolic link/],
    ['postmaster.pid that is not PostgreSQL\'s', { pidFile: { kind: 'file', text: 'hello\n' } }, /cannot be read/],
  ])('refuses %s (the server is never signalled)', (_what, over, reason) => {
    const verdict = judgeInstance(running(over));
    expect(verdict.ok === false && verdict.reason).toMatch(reason);
  });

  it('accepts postmaster.pid before the server has written its socket line', () => {
    expect(judgeInstance(running({ pidFile: { kind: 'file', text: pidText(4242, DATA, 5544, '') }, socketPorts: [] }))).toMatchObject({ ok: true, running: { pid: 4242, socket: false } });
  });
});

describe('the marker and postmaster.pid', () => {
  it('the marker round-trips; anything else is not one', () => {
    expect(parseMarker(marker())).toEqual({ tool: 'recover-bot', version: 1, name: 'side-1', id: 'abc123', createdAt: '2025-01-15T14:29:59.000Z', dataDir: DATA });
    for (const text of ['', 'null', '[]', '{}', '{"tool":"recover-bot","version":2,"name":"a","id":"b","createdAt":"c","dataDir":"d"}', marker({ id: '' }), marker({ name: 5 })]) expect(parseMarker(text)).toBeNull();
    // The job that restored it, for `recover instances`; a marker without one (the CLI, older markers) is as good.
    expect(parseMarker(marker({ jobId: 'job-1' }))).toMatchObject({ name: 'side-1', jobId: 'job-1' });
    expect(parseMarker(marker({ jobId: 7 }))).not.toHaveProperty('jobId');
  });

  it('postmaster.pid: pid, data directory, port, socket directory', () => {
    expect(parsePidFile(pidText())).toEqual({ pid: 4242, dataDir: DATA, port: 5544, socketDir: RUN });
    for (const text of ['', '4242\n', `-4242\n${DATA}\n1\n5544\n${RUN}\n`, `x\n${DATA}\n1\n5544\n${RUN}\n`, `4242\n${DATA}\n1\n99999\n${RUN}\n`]) expect(parsePidFile(text)).toBeNull();
  });
});
