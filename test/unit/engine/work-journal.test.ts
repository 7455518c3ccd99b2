import { mkdtemp, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FAILPOINTS, parseFailpoints } from '../../../src/engine/failpoints.js';
import { readWorkJournal, removeWorkJournal, workJournalRefusal, writeWorkJournal } from '../../../src/engine/work-journal.js';
import { loadConfig } from '../../../src/config.js';

describe('workJournalRefusal', () => {
  it.each([
    [{ version: 1, jobId: 'j1', pid: 10, startedAt: 'x' }, null],
    [{ version: 1, jobId: null, pid: 10, startedAt: 'x' }, null],
    [null, 'it is not a JSON object'],
    ['text', 'it is not a JSON object'],
    [{ version: 2, jobId: 'j1', pid: 10 }, 'its version is not 1'],
    [{ version: 1, jobId: 'j1', pid: 0 }, 'it names no writing process'],
    [{ version: 1, jobId: 'j1', pid: 1.5 }, 'it names no writing process'],
    [{ version: 1, jobId: 7, pid: 10 }, 'its job id is not a string'],
    [{ version: 1, jobId: '', pid: 10 }, 'its job id is not a string'],
  ])('%j → %s', (value, expected) => {
    expect(workJournalRefusal(value)).toBe(expected);
  });
});

describe('read/write/remove', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('round-trips, and a missing journal is null', async () => {
    dir = await mkdtemp(join(tmpdir(), 'work-journal-'));
    expect(await readWorkJournal(dir)).toBeNull();
    const journal = { version: 1 as const, jobId: 'job-1', pid: 4242, startedAt: '2026-12-06T00:00:00.000Z' };
    await writeWorkJournal(dir, journal);
    expect(await readWorkJournal(dir)).toEqual(journal);
    await removeWorkJournal(dir);
    expect(await readWorkJournal(dir)).toBeNull();
  });

  it('refuses a symlink, a group/other-writable file and bad JSON, naming why', async () => {
    dir = await mkdtemp(join(tmpdir(), 'work-journal-'));
    const path = join(dir, 'recover-work.json');
    await writeFile(join(dir, 'elsewhere.json'), JSON.stringify({ version: 1, jobId: 'j', pid: 5 }));
    await symlink(join(dir, 'elsewhere.json'), path);
    await expect(readWorkJournal(dir)).rejects.toThrow(/not a regular file/);
    await rm(path);
    await writeFile(path, JSON.stringify({ version: 1, jobId: 'j', pid: 5 }), { mode: 0o666 });
    await chmod(path, 0o666);
    await expect(readWorkJournal(dir)).rejects.toThrow(/group or others may write it/);
    await chmod(path, 0o600);
    await writeFile(path, '{not json');
    await expect(readWorkJournal(dir)).rejects.toThrow(/not JSON/);
  });
});

describe('failpoints', () => {
  it('parses known names and refuses unknown ones, listing the known', () => {
    expect(parseFailpoints('')).toEqual([]);
    expect(parseFailpoints(' in-place:verify , restore:configured')).toEqual(['in-place:verify', 'restore:configured']);
    const refused = parseFailpoints('in-place:verfy');
    expect(refused).toMatch(/unknown failpoint in-place:verfy; known: /);
    for (const name of FAILPOINTS) expect(refused).toContain(name);
  });

  it('loadConfig: none by default; a typo is CONFIG_INVALID naming the variable', () => {
    expect(loadConfig({}).failpoints).toEqual([]);
    expect(loadConfig({ RECOVER_FAILPOINTS: 'in-place:verified' }).failpoints).toEqual(['in-place:verified']);
    expect(() => loadConfig({ RECOVER_FAILPOINTS: 'verify' })).toThrow(/RECOVER_FAILPOINTS/);
  });
});
