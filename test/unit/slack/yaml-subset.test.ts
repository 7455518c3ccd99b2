import { describe, expect, it } from 'vitest';
import { parseYamlSubset } from '../../support/yaml-subset.js';

describe('parseYamlSubset (the YAML manifest.yml uses)', () => {
  it.each([
    ['a: 1\nb: "x # y"  # comment\nc: true\nd: plain text\n', { a: 1, b: 'x # y', c: true, d: 'plain text' }],
    ['top:\n  list:\n    - one  # why\n    - \'two\'\n', { top: { list: ['one', 'two'] } }],
    ['cmds:\n  - command: /recover\n    url: https://x/slack/events\n  - command: /b\n', { cmds: [{ command: '/recover', url: 'https://x/slack/events' }, { command: '/b' }] }],
    ['key:\n- a\n- b\nnext: 2\n', { key: ['a', 'b'], next: 2 }],
    ['# only a comment\nempty:\nafter: "#1d3b5a"\n', { empty: null, after: '#1d3b5a' }],
  ])('%j', (text, expected) => {
    expect(parseYamlSubset(text)).toEqual(expected);
  });

  it.each([
    ['a: [1, 2]\n', 'unsupported'],
    ['a: |\n  text\n', 'unsupported'],
    ['a: &x 1\n', 'unsupported'],
    ['a: 1\na: 2\n', 'duplicate key a'],
    ['a:\n  b: 1\n c: 2\n', 'line 3'],
    ['a: "open\n', 'unterminated'],
    ['a:\n\tb: 1\n', 'tabs'],
  ])('refuses %j', (text, message) => {
    expect(() => parseYamlSubset(text)).toThrow(message);
  });
});
