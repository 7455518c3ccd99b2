/**
 * Issue 17 item 2: only a side instance this tool created is ever read from, stopped or
 * removed. Hostile things in the restore root, each next to a running "production" cluster
 * (the sandbox's, also RECOVER_SOURCE_URL): a symlink `prodlink` to production's directory,
 * a directory with a running cluster but no marker, markers copied or forged next to
 * production's postmaster.pid (and its socket linked in, so the old code would connect and,
 * removing the instance, `pg_ctl stop` production). Through the bundled CLI every one is
 * refused (INSTANCE_INVALID, exit 3, the reason and the real instances named) and production
 * keeps running with the same postmaster. Then the engine's checked handle: a directory
 * swapped after the check is refused right before the stop/removal; a real instance is removed.
 * Each kind of refusal (and every `recover instances` run) is seen from outside a real process
 * (the bundled CLI); the further refusals of the same kind call the same main() in-process
 * (runCli: the same argv parsing, checks, exit code and output) to start fewer processes.
 */
import { copyFile, mkdir, readFile, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../devkit/sandbox.js';
import { takeBaseBackup } from '../../src/engine/backup.js';
import { MARKER_FILE, markerText } from '../../src/engine/instance-check.js';
import { openSideInstance, removeSideInstance, stopSideInstance, type CheckedInstance } from '../../src/engine/instances.js';
import { freePort, initCluster, makeOwnedDir, startOnFreePort, stopCluster, writeOwnedFile } from '../../src/engine/local-cluster.js';
import { ownerFor } from '../../src/engine/os-user.js';
import { createSideInstance } from '../../src/engine/restore-layout.js';
import { removeWorkJournal, writeWorkJournal } from '../../src/engine/work-journal.js';
import { parseConnectionUrl } from '../../src/util/connection-url.js';
import { rejection } from '../support/refusal.js';
import { oneJsonObject, runBundledCli, type CliRun } from '../support/run-bundled-cli.js';
import { runCli } from '../support/run-cli.js';

/** The state letter in /proc/<pid>/stat (R, S, Z…), or 'gone' when the process no longer exists. */
function processState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
  } catch {
    return 'gone';
  }
}

let sandbox: Sandbox;
let env: Record<string, string>;
let root: string;
let productionPid: string;
let beforeXid: string;
/** Clusters this test started (never `forged`: its postmaster.pid is production's). */
const ours: string[] = [];

const DB = 'shop';
const pidOf = async (dataDir: string) => (await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]!;

async function startClusterIn(dir: string, instance?: Awaited<ReturnType<typeof createSideInstance>>): Promise<string> {
  const owner = await ownerFor('postgres');
  const dataDir = join(dir, 'data');
  const handle = await initCluster(sandbox.exec, { bin: sandbox.config.pg.bin, osUser: 'postgres', owner, dataDir, socketDir: join(dir, 'run'), port: instance?.port ?? (await freePort()), settings: { fsync: 'off' } });
  ours.push(dataDir);
  await startOnFreePort(sandbox.exec, sandbox.config.pg.bin, 'postgres', handle);
  return dataDir;
}

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query(`CREATE DATABASE ${DB}`);
  await sandbox.query('CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 10)', [], DB);
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  beforeXid = (await sandbox.query<{ xid: string }>('INSERT INTO t VALUES (11) RETURNING txid_current()::text AS xid', [], DB))[0]!.xid;
  await sandbox.switchAndArchive();
  root = sandbox.config.restoreRoot;
  const owner = await ownerFor('postgres');
  await makeOwnedDir(root, owner);
  productionPid = await pidOf(sandbox.production.dataDir);
  env = sandbox.cliEnv();

  // prodlink → production's own directory (data/ and run/, the layout of an instance).
  await symlink(join(sandbox.root, 'prod'), join(root, 'prodlink'));

  // A real side instance this tool created (the marker), with a server running in it.
  const real = await createSideInstance(root, 'real', owner);
  await startClusterIn(real.workDir, real);

  // A directory with a running cluster but no marker (made by hand, or by a version before markers).
  await makeOwnedDir(join(root, 'nomarker'), owner);
  await startClusterIn(join(root, 'nomarker'));

  // forged: production's postmaster.pid, production's socket linked into run/, the marker copied from `real`.
  const forged = join(root, 'forged');
  await makeOwnedDir(join(forged, 'data'), owner);
  await makeOwnedDir(join(forged, 'run'), owner);
  await writeOwnedFile(join(forged, 'data', 'postmaster.pid'), await readFile(join(sandbox.production.dataDir, 'postmaster.pid'), 'utf8'), owner);
  await writeOwnedFile(join(forged, 'data', 'PG_VERSION'), '15\n', owner); // what pg_ctl looks for before it signals the PID
  const socketName = `.s.PGSQL.${sandbox.production.port}`;
  await symlink(join(sandbox.production.socketDir, socketName), join(forged, 'run', socketName));
  await copyFile(join(real.workDir, MARKER_FILE), join(forged, MARKER_FILE));
}, 240_000);

afterAll(async () => {
  for (const dataDir of ours) await stopCluster(sandbox.exec, sandbox.config.pg.bin, 'postgres', dataDir, 'immediate').catch(() => undefined);
  await sandbox?.cleanup();
});

/** Production answers, with the very postmaster it had at the start (not stopped, not restarted). */
async function productionUntouched(): Promise<void> {
  expect(await sandbox.query('SELECT count(*)::int AS n FROM t', [], DB)).toEqual([{ n: 11 }]);
  expect(await pidOf(sandbox.production.dataDir)).toBe(productionPid);
}

type Cli = (args: string[], env: Record<string, string>) => Promise<CliRun>;

/** Runs `recover <words> --json` (the bundled CLI process unless `cli` says otherwise); expects the refusal and production untouched. */
async function refused(words: string[], exit = 3, code = 'INSTANCE_INVALID', cli: Cli = runBundledCli): Promise<{ message: string; hint: string }> {
  const run = await cli([...words, '--json'], env);
  const out = oneJsonObject(run.stdout);
  expect({ exit: run.code, code: out.code, ok: out.ok }, `${words.join(' ')}\n${run.stdout}${run.stderr}`).toEqual({ exit, code, ok: false });
  await productionUntouched();
  return out as { message: string; hint: string };
}

/** Writes `forged`'s own marker (as root could) so the check reaches its postmaster.pid. */
async function forgeMarker(): Promise<void> {
  await unlink(join(root, 'forged', MARKER_FILE)).catch(() => undefined);
  await writeFile(join(root, 'forged', MARKER_FILE), markerText({ name: 'forged', id: 'forged-id', createdAt: new Date().toISOString(), dataDir: join(root, 'forged', 'data') }), { mode: 0o600 });
}

test('the real instance the tool created is verified (the check lets it through)', async () => {
  const run = await runBundledCli(['verify', '--instance', 'real', '--json'], env);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  expect(oneJsonObject(run.stdout)).toMatchObject({ ok: true, result: { checked: 'side instance real' } });
});

describe('prodlink → production: refused everywhere, production keeps running', () => {
  test('rows --from-instance prodlink (the copy would end with "Stop and remove the side instance")', async () => {
    const out = await refused(['rows', 't', '--where', 'id = 1', '--from-instance', 'prodlink', '--db', DB]);
    expect(out.message).toMatch(/prodlink is not a side instance this tool created: .*prodlink is a symbolic link to .*prod/);
    expect(out.hint).toContain(`The side instances this tool created under ${root}: real.`);
    expect(existsSync(join(root, 'prodlink'))).toBe(true);
  });

  test('table --from-instance prodlink', async () => {
    await refused(['table', 't', '--from-instance', 'prodlink', '--mode', 'missing-rows', '--db', DB], 3, 'INSTANCE_INVALID', runCli);
  });

  test('verify --instance prodlink', async () => {
    expect((await refused(['verify', '--instance', 'prodlink'], 3, 'INSTANCE_INVALID', runCli)).message).toContain('symbolic link');
  });

  test('a new instance named prodlink (pitr, database) is a name in use', async () => {
    await refused(['pitr', '--latest', '--instance', 'prodlink'], 3, 'INSTANCE_EXISTS');
    await refused(['database', DB, '--before-xid', beforeXid, '--instance', 'prodlink'], 3, 'INSTANCE_EXISTS', runCli);
  });

  test('../ and absolute names are bad input', async () => {
    for (const name of ['../prod', '/tmp']) {
      await refused(['rows', 't', '--where', 'id = 1', '--from-instance', name, '--db', DB], 2, 'BAD_INPUT', runCli);
      await refused(['verify', '--instance', name], 2, 'BAD_INPUT', name === '../prod' ? runBundledCli : runCli);
    }
  });
});

describe('directories that are not instances this tool created', () => {
  test('a running cluster without the marker: refused, with how to adopt it; it keeps running; adopted by the hint\'s command', async () => {
    const pid = await pidOf(join(root, 'nomarker', 'data'));
    const out = await refused(['verify', '--instance', 'nomarker']);
    expect(out.message).toContain(`has no ${MARKER_FILE}`);
    expect(out.hint).toMatch(/adopt it: .*recover-instance\.json.*chmod 600/);
    await refused(['rows', 't', '--where', 'id = 1', '--from-instance', 'nomarker', '--db', DB], 3, 'INSTANCE_INVALID', runCli);
    expect(await pidOf(join(root, 'nomarker', 'data'))).toBe(pid);
    // The hint's command adopts it (as the runner's user): then it is an instance like any other.
    await execa('sh', ['-c', /adopt it: as the runner's user, run (.*)\.$/s.exec(out.hint)![1]!]);
    const adopted = await runBundledCli(['verify', '--instance', 'nomarker', '--json'], env);
    expect(adopted.code, adopted.stdout + adopted.stderr).toBe(0);
  });

  test('a marker copied from another instance', async () => {
    expect((await refused(['verify', '--instance', 'forged'], 3, 'INSTANCE_INVALID', runCli)).message).toContain('belongs to the instance real');
  });

  test("a valid-looking marker next to production's postmaster.pid (its socket linked in)", async () => {
    await forgeMarker();
    const out = await refused(['rows', 't', '--where', 'id = 1', '--from-instance', 'forged', '--db', DB]);
    expect(out.message).toContain(`postmaster.pid names the data directory ${sandbox.production.dataDir}, not this instance's`);
    await refused(['verify', '--instance', 'forged'], 3, 'INSTANCE_INVALID', runCli);
  });

  test("postmaster.pid edited to name this directory, with production's process in it", async () => {
    await forgeMarker();
    const forged = join(root, 'forged');
    const lines = (await readFile(join(sandbox.production.dataDir, 'postmaster.pid'), 'utf8')).split('\n');
    lines[1] = join(forged, 'data');
    lines[4] = join(forged, 'run');
    await writeOwnedFile(join(forged, 'data', 'postmaster.pid'), lines.join('\n'), await ownerFor('postgres'));
    const out = await refused(['rows', 't', '--where', 'id = 1', '--from-instance', 'forged', '--db', DB]);
    expect(out.message).toContain(`process ${productionPid} named in ${join(forged, 'data')}/postmaster.pid runs in ${sandbox.production.dataDir}`);
    await refused(['table', 't', '--from-instance', 'forged', '--mode', 'missing-rows', '--db', DB], 3, 'INSTANCE_INVALID', runCli);
  });
});

describe('the checked handle: checked again right before the stop and the removal', () => {
  test('an unchecked object is refused', async () => {
    const fake = { name: 'real', id: 'x', workDir: join(root, 'real'), dataDir: join(root, 'real', 'data'), socketDir: join(root, 'real', 'run'), running: null, connection: null } as unknown as CheckedInstance;
    expect((await rejection(stopSideInstance(fake))).message).toContain('was not checked');
  });

  test('swapped for a symlink to production after the check: nothing stopped or removed', async () => {
    const real = join(root, 'real');
    const instance = await openSideInstance(sandbox.config, 'real');
    expect(instance.running).not.toBeNull();
    const pid = await pidOf(join(real, 'data'));
    await rename(real, `${real}-moved`);
    await symlink(join(sandbox.root, 'prod'), real);
    try {
      expect((await rejection(removeSideInstance(sandbox.exec, instance))).code).toBe('INSTANCE_INVALID');
      expect((await rejection(stopSideInstance(instance))).code).toBe('INSTANCE_INVALID');
      await productionUntouched();
      expect(await pidOf(join(`${real}-moved`, 'data'))).toBe(pid);
    } finally {
      await unlink(real);
      await rename(`${real}-moved`, real);
    }
  });

  test('replaced by another directory carrying a copy of the same marker: refused', async () => {
    const real = join(root, 'real');
    const instance = await openSideInstance(sandbox.config, 'real');
    await rename(real, `${real}-moved`);
    await mkdir(join(real, 'data'), { recursive: true, mode: 0o700 });
    await mkdir(join(real, 'run'), { mode: 0o700 });
    await copyFile(join(`${real}-moved`, MARKER_FILE), join(real, MARKER_FILE));
    try {
      expect((await rejection(removeSideInstance(sandbox.exec, instance))).message).toContain('was replaced since it was checked');
      expect(existsSync(join(real, MARKER_FILE))).toBe(true);
    } finally {
      await sandbox.exec.run('rm', ['-rf', '--', real]);
      await rename(`${real}-moved`, real);
    }
  });

  test('the real instance is stopped and removed', async () => {
    const dataDir = join(root, 'real', 'data');
    const pid = Number(await pidOf(dataDir));
    await removeSideInstance(sandbox.exec, await openSideInstance(sandbox.config, 'real'));
    expect(existsSync(join(root, 'real'))).toBe(false);
    // Exited: gone, or a zombie its parent has not reaped yet (how soon that happens is not ours to wait for).
    expect(existsSync(`/proc/${pid}`) ? processState(pid) : 'gone').toMatch(/^(gone|Z|X)$/);
    await productionUntouched();
  });
});

/**
 * `recover instances` and `recover instances remove NAME` through the bundled CLI, over what is
 * left in the root now: `nomarker` (adopted above: a marked instance, its server running),
 * `forged` (a forged marker, postmaster.pid naming production's process), `prodlink` (a symlink
 * to production) and `spare`, a stopped instance made here. Only checked instances are listed
 * as such and removed; a running one only with --stop; every removal confirmed with its name.
 */
describe('recover instances: list, and remove only what the check lets through', () => {
  beforeAll(async () => {
    // Made by a job (its id in the marker), and a restore into it still under way: this process wrote its work journal.
    await createSideInstance(root, 'spare', await ownerFor('postgres'), undefined, { jobId: 'job-spare' });
    await writeWorkJournal(join(root, 'spare'), { version: 1, jobId: 'job-spare', pid: process.pid, startedAt: new Date().toISOString() });
  });

  test('lists the instances with state, port and marker, and the rest with why they are not instances', async () => {
    const run = await runBundledCli(['instances', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const { instances, others } = (oneJsonObject(run.stdout) as { result: { instances: Record<string, unknown>[]; others: { name: string; reason: string }[] } }).result;
    const port = Number((await readFile(join(root, 'nomarker', 'data', 'postmaster.pid'), 'utf8')).split('\n')[3]);
    expect(instances).toEqual([
      expect.objectContaining({ name: 'nomarker', state: 'running', port, pid: Number(await pidOf(join(root, 'nomarker', 'data'))), markerId: expect.stringMatching(/^adopted-/), bytes: expect.any(Number) }),
      expect.objectContaining({ name: 'spare', state: 'stopped', port: null, dataDir: join(root, 'spare', 'data'), jobId: 'job-spare', restoring: expect.objectContaining({ jobId: 'job-spare', pid: process.pid }) }),
    ]);
    expect(Object.fromEntries(others.map((o) => [o.name, o.reason]))).toEqual({
      forged: expect.stringContaining(`runs in ${sandbox.production.dataDir}`),
      prodlink: expect.stringContaining('is a symbolic link'),
    });
    const text = await runBundledCli(['instances'], env);
    expect(text.stdout).toMatch(new RegExp(`^ {2}nomarker {2}running {2}port ${port} \\(pid \\d+\\)`, 'm'));
    expect(text.stdout).toMatch(/^ {2}prodlink: .*symbolic link/m);
    expect(text.stdout).toMatch(/^ {2}spare .* job job-spare .* RESTORE UNFINISHED \(job job-spare, pid \d+/m);
  });

  test('never removes what is not a checked instance: prodlink, forged (production keeps running)', async () => {
    for (const name of ['prodlink', 'forged']) {
      const out = await refused(['instances', 'remove', name, '--stop', '--confirm', name]);
      expect(out.message).toContain(`${name} is not a side instance this tool created`);
      expect(existsSync(join(root, name))).toBe(true);
    }
  });

  test('not while a restore writes into it; a running instance only with --stop; the name confirmed, not guessed (no terminal here)', async () => {
    const busy = await refused(['instances', 'remove', 'spare', '--stop', '--confirm', 'spare'], 3, 'INSTANCE_RUNNING');
    expect(busy.message).toBe(`A restore into the side instance spare is running (job job-spare, pid ${process.pid}); nothing was stopped or removed.`);
    expect(busy.hint).toContain('recover cancel job-spare');
    await removeWorkJournal(join(root, 'spare')); // the restore ended
    const pid = await pidOf(join(root, 'nomarker', 'data'));
    const out = await refused(['instances', 'remove', 'nomarker', '--confirm', 'nomarker'], 3, 'INSTANCE_RUNNING', runCli);
    expect(out.hint).toContain('--stop');
    await refused(['instances', 'remove', 'spare'], 2, 'BAD_INPUT', runCli);
    const wrong = await refused(['instances', 'remove', 'spare', '--confirm', 'nomarker'], 2, 'BAD_INPUT', runCli);
    expect(wrong.message).toContain("the side instance's name");
    expect(await pidOf(join(root, 'nomarker', 'data'))).toBe(pid);
    expect(existsSync(join(root, 'spare'))).toBe(true);
  });

  test('removes a stopped one, and a running one with --stop (its server stopped first)', async () => {
    const spare = await runBundledCli(['instances', 'remove', 'spare', '--confirm', 'spare'], env);
    expect(spare.code, spare.stderr).toBe(0);
    expect(spare.stdout).toBe(`Removed the side instance spare (${join(root, 'spare')}).`);
    expect(existsSync(join(root, 'spare'))).toBe(false);
    const pid = Number(await pidOf(join(root, 'nomarker', 'data')));
    const stopped = await runBundledCli(['instances', 'remove', 'nomarker', '--stop', '--confirm', 'nomarker', '--json'], env);
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(0);
    expect(oneJsonObject(stopped.stdout)).toMatchObject({ ok: true, result: { removed: 'nomarker', stopped: true } });
    expect(existsSync(join(root, 'nomarker'))).toBe(false);
    expect(existsSync(`/proc/${pid}`) ? processState(pid) : 'gone').toMatch(/^(gone|Z|X)$/);
    await productionUntouched();
    const left = oneJsonObject((await runBundledCli(['instances', '--json'], env)).stdout) as { result: { instances: unknown[]; others: { name: string }[] } };
    expect(left.result.instances).toEqual([]);
    expect(left.result.others.map((o) => o.name)).toEqual(['forged', 'prodlink']);
  });
});
