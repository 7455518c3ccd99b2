/**
 * `npm test` on a fresh machine: scripts/test-prereqs.sh (npm's pretest) stops at once with one
 * message and the one command to run when a system tool is missing and it may not install it,
 * instead of letting tests fail ten minutes in with `spawn bsdtar ENOENT`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, '../../../scripts/test-prereqs.sh');
const TOOLS = ['bash', 'id', 'sort', 'tr', 'seq', 'grep', 'zstd', 'lz4', 'bsdtar', 'runuser', 'psql', 'pg_createcluster', 'pg_lsclusters', 'pg_ctlcluster', 'apt-get'];
const dirs: string[] = [];

/** A PATH holding the machine's own tools except those left out. */
async function pathWithout(...missing: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prereqs-path-'));
  dirs.push(dir);
  for (const tool of TOOLS.filter((t) => !missing.includes(t))) {
    const found = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, tool));
    for (const candidate of found) {
      try {
        await symlink(candidate, join(dir, tool));
        await run('test', ['-x', join(dir, tool)]);
        break;
      } catch {
        await rm(join(dir, tool), { force: true });
      }
    }
  }
  return dir;
}

async function prereqs(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('/bin/bash', [SCRIPT], { env: { RECOVER_TEST_INSTALL: 'never', ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('scripts/test-prereqs.sh (pretest)', () => {
  it('without bsdtar, and not allowed to install: stops with the package to install, in one message', async () => {
    const result = await prereqs({ PATH: await pathWithout('bsdtar') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('bsdtar');
    expect(result.stderr).toContain('apt-get install -y libarchive-tools');
    expect(result.stderr.match(/npm test cannot run/g)).toHaveLength(1);
  });

  it('without zstd and lz4: one command names both packages', async () => {
    const result = await prereqs({ PATH: await pathWithout('zstd', 'lz4') });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/apt-get install -y .*lz4 zstd|apt-get install -y .*zstd.*lz4/);
  });

  it('without the PostgreSQL server binaries: names postgresql-15', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'prereqs-pgbin-'));
    dirs.push(empty);
    const result = await prereqs({ PATH: process.env.PATH ?? '', RECOVER_PG_BIN: empty });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${empty}/initdb is missing`);
    expect(result.stderr).toContain('postgresql-15');
  });

  it('on this machine, after npm test installed what it needs: passes without output on stderr', async () => {
    const result = await prereqs({ PATH: process.env.PATH ?? '' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
