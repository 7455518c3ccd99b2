/**
 * README "Deploying", followed where a test can: the Slack scopes it lists are the manifest's
 * (plus the two it names as optional or app-level), every /recover subcommand is documented,
 * every variable it names is one loadConfig reads (or the Azure SDK's own), the env files it
 * shows load through RECOVER_ENV_FILE into what it says they configure, and its `recover
 * setup-sql` lines run. (The roles SQL applied to a real cluster: integration/cli/setup-sql.)
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, requireProductionName, requireStorageDriver } from '../../src/config.js';
import { envSchema } from '../../src/config/env-schema.js';
import { policyStamp } from '../../src/control/index.js';
import { runCli } from '../support/run-cli.js';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const manifest = readFileSync(new URL('manifest.yml', root), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no "## ${title}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}
const guide = section('Deploying');

/** Fenced code blocks of the guide: their text. */
const blocks = [...guide.matchAll(/```\w*\n([\s\S]*?)```/g)].map((m) => m[1]!);

function manifestBotScopes(): string[] {
  const bot = /^\s+bot:\n((?:\s+- .*\n)+)/m.exec(manifest);
  if (!bot) throw new Error('manifest.yml has no oauth_config.scopes.bot list');
  return bot[1]!.split('\n').map((line) => /^\s+- ([a-z:._]+)/.exec(line)?.[1]).filter((s): s is string => Boolean(s));
}

describe('README "Deploying"', () => {
  it('lists exactly the bot scopes manifest.yml asks for, chat:write.public as an addition and connections:write for the app-level token', () => {
    const named = new Set([...guide.matchAll(/`(commands|[a-z]+:[a-z_.]+)`/g)].map((m) => m[1]!));
    const extra = ['chat:write.public', 'connections:write'];
    for (const scope of extra) expect(named.has(scope), scope).toBe(true);
    expect([...named].filter((s) => !extra.includes(s)).sort()).toEqual(manifestBotScopes().sort());
    expect(manifestBotScopes()).not.toContain('chat:write.public');
    expect(guide).toMatch(/add `chat:write\.public` to the manifest's bot\s+scopes/);
    expect(guide).toMatch(/`connections:write`\s+gives\s+`SLACK_APP_TOKEN`/);
    // The manifest keys it tells people to edit.
    for (const key of ['socket_mode_enabled', 'request_url', 'url', 'interactivity']) expect(manifest).toMatch(new RegExp(`^\\s+(- )?${key}:`, 'm'));
    expect(manifest).toContain('/slack/events');
  });

  it('every /recover subcommand of the manifest\'s usage hint is documented in the README', () => {
    const hint = /^\s*usage_hint:\s*"([^"]*)"/m.exec(manifest)![1]!;
    // (unit/slack/manifest checks the hint against the registry; here: each is documented.)
    const names = hint.split(' | ').map((alternative) => alternative.trim().split(/\s+/)[0]!);
    expect(names.length).toBeGreaterThan(5);
    const undocumented = names.filter((name) => !new RegExp(`\`/?recover ${name}\\b`).test(readme));
    expect(undocumented, 'subcommands the README never shows as `recover NAME` or `/recover NAME`').toEqual([]);
  });

  it('names only variables loadConfig reads (each also in the Configuration table), or the Azure SDK\'s own', () => {
    const known = new Set(Object.keys(envSchema.shape));
    const configuration = section('Configuration (environment, read only by `src/config.ts`)');
    const named = new Set([...guide.matchAll(/\b((?:RECOVER|SLACK)_[A-Z0-9_]*[A-Z0-9]|LOG_LEVEL)\b(\*)?/g)].map((m) => m[1]! + (m[2] ?? '')));
    expect(named.size).toBeGreaterThan(20);
    for (const name of named) {
      if (name.endsWith('*')) {
        // A family: RECOVER_AZURE_* — some variables start with it.
        expect([...known].some((k) => k.startsWith(name.slice(0, -1))), name).toBe(true);
        continue;
      }
      expect(known.has(name), `${name} is not read by loadConfig`).toBe(true);
      expect(configuration, `${name} is not in the Configuration table`).toContain(`\`${name}\``);
    }
    // The Azure SDK reads these itself (workload identity); they must be the ones it reads.
    const azure = new Set([...guide.matchAll(/\b(AZURE_[A-Z_]+[A-Z])\b/g)].map((m) => m[1]!));
    expect([...azure].sort()).toEqual(['AZURE_CLIENT_ID', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_TENANT_ID']);
    const sdk = join(dirname(createRequire(import.meta.url).resolve('@azure/identity')), 'credentials', 'workloadIdentityCredential.js');
    const source = readFileSync(sdk, 'utf8');
    for (const name of azure) expect(source).toContain(`process.env.${name}`);
  });

  describe('its env files, loaded with RECOVER_ENV_FILE through loadConfig', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-deploying-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const files = new Map<string, { text: string; mode: number }>();
    for (const block of blocks) {
      const head = /^# \/etc\/recover-bot\/(\w+)\.env \((0[0-7]{3})/.exec(block);
      if (head) files.set(head[1]!, { text: block, mode: parseInt(head[2]!, 8) });
    }
    const load = (name: string) => {
      const file = files.get(name);
      if (!file) throw new Error(`the guide shows no /etc/recover-bot/${name}.env`);
      const path = join(dir, `${name}.env`);
      writeFileSync(path, file.text);
      chmodSync(path, file.mode);
      return loadConfig({ RECOVER_ENV_FILE: path });
    };

    it('shows bot.env, runner.env and wal.env', () => {
      expect([...files.keys()].sort()).toEqual(['bot', 'runner', 'wal']);
    });

    it('bot.env: Slack and the control DB, never storage or production', () => {
      const bot = load('bot');
      expect(bot.slack.botToken).toMatch(/^xoxb-/);
      expect(bot.slack.signingSecret).toBeTruthy();
      expect(bot.slack.allowedChannels).toEqual(['inc-*']);
      expect(bot.controlUrl).toMatch(/^postgres:\/\/recover_bot:/);
      expect(requireProductionName(bot)).toBe('aiagent_prod');
      expect(bot.storage.driver).toBeUndefined();
      expect(bot.storage.azure).toBeUndefined();
      expect(bot.source.url).toBeUndefined();
    });

    it('runner.env: on the database host, Azure by managed identity, the schedule; approval settings the same as the bot\'s', () => {
      const runner = load('runner');
      expect(runner.controlUrl).toMatch(/^postgres:\/\/recover_runner:/);
      expect(runner.source).toMatchObject({ dataDir: '/var/lib/postgresql/15/main', stop: { method: 'hook', stopCommand: ['systemctl', 'stop', 'postgresql@15-main'] } });
      expect(runner.source.url).toContain('host=/var/run/postgresql');
      expect(requireStorageDriver(runner.storage)).toBe('azure');
      expect(runner.storage.azure).toEqual({
        kind: 'token', account: 'aiagentbackups', endpoint: 'https://aiagentbackups.blob.core.windows.net', credential: 'managed-identity', managedIdentityClientId: '00000000-0000-0000-0000-000000000000',
      });
      expect(runner.backupSchedule).toBe('0 2 * * *');
      expect(runner.retention).toEqual({ days: 14 });
      expect(policyStamp(runner.approval)).toEqual(policyStamp(load('bot').approval));
    });

    it('wal.env: storage only, readable by group postgres and still accepted (nobody else may write it)', () => {
      expect(files.get('wal')!.mode).toBe(0o640);
      const wal = load('wal');
      expect(wal.storage.azure).toMatchObject({ kind: 'token', credential: 'managed-identity' });
      expect(wal.controlUrl).toBeUndefined();
      expect(wal.source.url).toBeUndefined();
    });
  });

  it('its `recover setup-sql` lines run and print what it says', async () => {
    const lines = blocks.join('\n').replace(/\\\n\s*/g, ' ').split('\n').filter((line) => line.startsWith('recover setup-sql'));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      const args = line.split(/[|>]/)[0]!.trim().split(/\s+/).slice(1);
      const { code, stdout, stderr } = await runCli(args, {});
      expect(code, `${line}: ${stderr}`).toBe(0);
      expect(stdout).not.toMatch(/\bPASSWORD\b/);
      if (args.includes('--tables-owner')) expect(stdout).toContain('GRANT "app_owner" TO "recover_runner";');
      if (args.includes('--runner-address')) expect(stdout).toContain('host replication recover_runner 10.0.0.5/32 scram-sha-256');
    }
    expect(guide).toContain('host replication recover_runner 10.0.0.5/32\nscram-sha-256');
  });
});
