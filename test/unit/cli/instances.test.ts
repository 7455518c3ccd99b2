/** `recover instances [remove NAME [--stop] [--confirm NAME]]`: the words, and the listing's text (pure). */
import { describe, expect, it } from 'vitest';
import { formatInstances, parseInstancesWords } from '../../../src/cli/instance-commands.js';
import { refusal } from '../../support/refusal.js';

describe('recover instances words', () => {
  it.each([
    [[], { remove: null, stop: false, json: false, confirm: undefined }],
    [['--json'], { remove: null, stop: false, json: true, confirm: undefined }],
    [['remove', 'pitr-1'], { remove: 'pitr-1', stop: false, json: false, confirm: undefined }],
    [['remove', 'pitr-1', '--stop', '--confirm', 'pitr-1', '--json'], { remove: 'pitr-1', stop: true, json: true, confirm: 'pitr-1' }],
    [['remove', '--confirm=pitr-1', 'pitr-1'], { remove: 'pitr-1', stop: false, json: false, confirm: 'pitr-1' }],
  ])('%j', (words, args) => {
    expect(parseInstancesWords(words)).toEqual(args);
  });

  it.each([
    [['--stop'], 'go with `remove NAME`'],
    [['--confirm', 'x'], 'go with `remove NAME`'],
    [['delete', 'x'], 'Unknown word delete'],
    [['remove'], 'Name the one side instance'],
    [['remove', 'a', 'b'], 'Name the one side instance'],
    [['remove', 'a', '--force'], 'Unknown option --force'],
    [['remove', 'a', '--confirm'], '--confirm needs'],
  ])('%j is refused', (words, message) => {
    const error = refusal(() => parseInstancesWords(words));
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toContain(message);
  });
});

describe('the listing', () => {
  it('instances with state, port, created, size and marker; other entries with why they are not instances', () => {
    const text = formatInstances({
      root: '/r',
      instances: [
        { name: 'pitr-1', state: 'running', port: 5433, pid: 42, createdAt: '2025-01-15T15:00:00.000Z', markerId: 'abc', jobId: 'j-1', restoring: null, workDir: '/r/pitr-1', dataDir: '/r/pitr-1/data', bytes: 3 * 1024 * 1024 },
        { name: 'rows-2', state: 'stopped', port: null, pid: null, createdAt: '2025-01-15T16:00:00.000Z', markerId: 'def', jobId: null, restoring: { jobId: 'j-2', pid: 7, startedAt: '2025-01-15T16:00:01Z' }, workDir: '/r/rows-2', dataDir: '/r/rows-2/data', bytes: null },
      ],
      others: [{ name: 'prodlink', reason: '/r/prodlink is a symbolic link to /pg, not a directory this tool created' }],
    });
    expect(text.split('\n')).toEqual([
      'Side instances under /r (2):',
      `  pitr-1  ${'running  port 5433 (pid 42)'.padEnd(30)}  created 2025-01-15T15:00:00.000Z  3.0 MiB  job j-1  marker abc`,
      '          /r/pitr-1/data',
      `  rows-2  ${'stopped'.padEnd(30)}  created 2025-01-15T16:00:00.000Z  size ?  no job (CLI)  marker def  RESTORE UNFINISHED (job j-2, pid 7, since 2025-01-15T16:00:01Z: running, or left by a lost runner)`,
      '          /r/rows-2/data',
      'Not side instances this tool created (never read, stopped or removed by it) (1):',
      '  prodlink: /r/prodlink is a symbolic link to /pg, not a directory this tool created',
      'recover instances remove NAME [--stop] removes one (confirmed with its name; --stop stops its server first).',
    ]);
  });
});
