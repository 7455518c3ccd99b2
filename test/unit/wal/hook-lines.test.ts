/** Issue 19 items 4 and 5: which node and fallback the hook's lines name, what the agent prints, and the settings file. */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { parseEnvFile, refuseForeignWriters } from '../../../src/config/env-file.js';
import { agentBanner, fallbackArgv, hookNode } from '../../../src/wal/hook-commands.js';

describe('hookNode: a node the postgres user runs, not the agent process\'s own', () => {
  it.each([
    { case: 'configured', input: { configured: '/opt/node/bin/node', systemNodeExists: true, execPath: '/root/.nvm/node' }, node: '/opt/node/bin/node' },
    { case: 'system node present', input: { systemNodeExists: true, execPath: '/root/.nvm/node' }, node: '/usr/bin/node' },
    { case: 'none: the agent\'s own', input: { systemNodeExists: false, execPath: '/usr/local/bin/node' }, node: '/usr/local/bin/node' },
  ])('$case', ({ input, node }) => expect(hookNode(input)).toBe(node));
});

describe('fallbackArgv', () => {
  it.each([
    { case: 'configured executable', input: { node: '/usr/bin/node', configured: '/usr/local/bin/recover' }, argv: ['/usr/local/bin/recover'] },
    { case: 'configured script', input: { node: '/usr/bin/node', configured: '/opt/recover/bin/recover.mjs' }, argv: ['/usr/bin/node', '/opt/recover/bin/recover.mjs'] },
    { case: 'the bundle running the agent', input: { node: '/usr/bin/node', self: '/opt/recover/dist/recover.mjs' }, argv: ['/usr/bin/node', '/opt/recover/dist/recover.mjs'] },
    { case: 'TypeScript sources (not runnable by node): none', input: { node: '/usr/bin/node', self: '/src/cli/wal-commands.ts' }, argv: null },
  ])('$case', ({ input, argv }) => expect(fallbackArgv(input)).toEqual(argv));
});

describe('what the agent prints', () => {
  const base = { socketPath: '/run/rb/wal.sock', confLines: ["archive_command = 'x'", "restore_command = 'y'"] };
  it('says archive_mode needs a restart, names the fallback and its settings file, and warns about unreadable paths', () => {
    const text = agentBanner({ ...base, fallback: ['/usr/bin/node', '/opt/r/dist/recover.mjs'], envFile: '/etc/recover-bot/env', unreadable: ['/root/x/wal-hook.mjs'] });
    expect(text).toMatch(/archive_mode = on takes effect only after a RESTART of PostgreSQL/);
    expect(text).toMatch(/not a reload/);
    expect(text.split('\n')).toContain('archive_mode = on');
    expect(text).toContain('/usr/bin/node /opt/r/dist/recover.mjs wal-push, with its settings from /etc/recover-bot/env');
    expect(text).toContain('WARNING: the postgres user cannot use /root/x/wal-hook.mjs');
    expect(agentBanner({ ...base, fallback: null, unreadable: [] })).toMatch(/No direct-push fallback: set RECOVER_HOOK_FALLBACK/);
  });
});

describe('RECOVER_ENV_FILE', () => {
  it.each([
    { text: 'A=1\n# c\n\nexport B="two words"\nC=\'x=y\'\n', vars: { A: '1', B: 'two words', C: 'x=y' }, bad: [] },
    { text: 'A=1\nnot a line\n', vars: { A: '1' }, bad: [2] },
  ])('parses $text', ({ text, vars, bad }) => expect(parseEnvFile(text)).toEqual({ vars, bad }));

  it.each([
    { owner: 0, mode: 0o100640, uid: 0, refused: null },
    { owner: 1000, mode: 0o100600, uid: 1000, refused: null },
    { owner: 0, mode: 0o100660, uid: 0, refused: /written by its group or by others \(mode 0660\)/ },
    { owner: 0, mode: 0o100602, uid: 0, refused: /written by its group or by others \(mode 0602\)/ },
    { owner: 1001, mode: 0o100600, uid: 0, refused: /belongs to user 1001/ },
  ])('a file owned by $owner with mode $mode, read by uid $uid: refused $refused', ({ owner, mode, uid, refused }) => {
    const check = () => refuseForeignWriters('/etc/recover-bot/env', { uid: owner, mode }, uid);
    if (refused) expect(check).toThrow(refused);
    else expect(check).not.toThrow();
  });

  it('loadConfig reads it under the environment (the environment wins), and names an unreadable file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rb-envfile-'));
    try {
      const file = join(dir, 'env');
      await writeFile(file, 'RECOVER_STORAGE_DRIVER=local\nRECOVER_STORAGE_LOCAL_DIR=/srv/wal\nRECOVER_POOL=from-file\n');
      const config = loadConfig({ RECOVER_ENV_FILE: file, RECOVER_POOL: 'from-env' });
      expect(config.storage).toMatchObject({ driver: 'local', localDir: '/srv/wal' });
      expect(config.pool).toBe('from-env');
      expect(config.hook.envFile).toBe(file);
      expect(() => loadConfig({ RECOVER_ENV_FILE: join(dir, 'missing') })).toThrow(/RECOVER_ENV_FILE .*missing cannot be read/);
      await chmod(file, 0o666);
      expect(() => loadConfig({ RECOVER_ENV_FILE: file })).toThrow(/may be written by its group or by others \(mode 0666\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
