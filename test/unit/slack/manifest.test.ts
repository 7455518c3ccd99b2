/**
 * The slash command's `usage_hint` in manifest.yml (what Slack shows while people type
 * `/recover`) names every subcommand of the registry, and only those: it cannot drift again
 * when a command is added. Read as text: there is no YAML parser among the dependencies.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../commands/index.js';

const manifest = readFileSync(new URL('../../../manifest.yml', import.meta.url), 'utf8');

function usageHint(): string {
  const match = /^\s*usage_hint:\s*"([^"]*)"\s*$/m.exec(manifest);
  if (!match) throw new Error('manifest.yml has no usage_hint line');
  return match[1]!;
}

describe('manifest.yml', () => {
  it('usage_hint: one alternative per registered command, each starting with its name', () => {
    const names = usageHint().split(' | ').map((alternative) => alternative.trim().split(/\s+/)[0]);
    expect([...names].sort()).toEqual(COMMANDS.map((c) => c.name).sort());
  });

  it('usage_hint: each alternative\'s words are the command\'s own usage, shortened', () => {
    for (const alternative of usageHint().split(' | ')) {
      const command = COMMANDS.find((c) => c.name === alternative.split(' ')[0])!;
      // Every option the hint shows is one the command's usage names.
      for (const option of alternative.match(/--[a-z-]+/g) ?? []) expect(command.usage, `${command.name}: ${option}`).toContain(option);
    }
  });

  it('one /recover slash command', () => {
    expect(manifest.match(/^\s*- command: (\S+)$/gm)?.map((line) => line.trim())).toEqual(['- command: /recover']);
  });
});
