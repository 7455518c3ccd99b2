import { describe, expect, it } from 'vitest';
import { likelyLine, matchScenario, SCENARIOS } from '../../../commands/scenarios/table.js';
import { scenarios, scenariosReport, scenariosText } from '../../../commands/scenarios/index.js';
import { help } from '../../../commands/help.js';
import { helpMessage } from '../../../src/slack/views/help.js';
import { COMMANDS } from '../../../commands/index.js';
import { forSurface } from '../../../commands/surface.js';
import type { Catalog } from '../../../src/catalog/catalog.js';
import type { DrillRow } from '../../../src/control/drills.js';

describe('matchScenario', () => {
  it.each([
    ['someone dropped a table', 'table'],
    ['TRUNCATE ran on orders', 'table'],
    ['deleted rows from workflows', 'row'],
    ['a bad UPDATE overwrote records', 'row'],
    ['dropped database by mistake', 'database'],
    ['pg_wal disk full, no space', 'disk'],
    ['postgres crashed and will not start, checksum errors', 'corruption'],
    ['whole azure region outage', 'regional'],
    ['ransomware encrypted the volume', 'ransomware'],
  ])('%s → %s', (text, key) => {
    expect(matchScenario(text)?.key).toBe(key);
  });
  it('nothing it knows: null', () => {
    expect(matchScenario('the coffee machine broke')).toBeNull();
    expect(matchScenario('')).toBeNull();
  });
  it('every scenario is reachable from its own words', () => {
    for (const scenario of SCENARIOS) expect(matchScenario(scenario.words.join(' '))?.key, scenario.key).toBe(scenario.key);
  });
});

const backup = {
  formatVersion: 2, id: '20261206T000000Z', startLsn: '0/2000028', stopLsn: '0/2000100', startTime: '2026-12-06T00:00:00Z', stopTime: '2026-12-06T00:00:10Z', timeline: 1,
  systemIdentifier: '1', serverVersion: '15', serverVersionNum: 150000, walSegmentSize: 16 * 1024 * 1024, nextXidAtStart: '1', databaseBytes: 8e9,
  files: [{ name: 'base/part-00001.tar.zst', bytes: 2e9, sha256: 'a'.repeat(64), rawBytes: 8e9, codec: 'zstd' }],
} as unknown as Catalog['backups'][number];
const segment = (n: number) => ({ name: `0000000100000000000000${n.toString(16).toUpperCase().padStart(2, '0')}`, timeline: 1, segno: BigInt(n), size: 16 * 1024 * 1024, archivedAt: new Date('2026-12-06T01:00:00Z') });
const catalog: Catalog = { backups: [backup], unreadableBackups: [], wal: { segments: [2, 3, 4, 5].map(segment), histories: new Map(), others: [] }, readAt: new Date('2026-12-06T02:00:00Z') };

describe('scenarios report', () => {
  it('expected times come from the restore estimate of the newest backup and its WAL, against the RTO', () => {
    const report = scenariosReport({}, { catalog, rtoObjectiveSeconds: 7200 });
    expect(report.restore).toMatchObject({ backupId: backup.id, basis: expect.stringContaining('not yet measured') });
    expect(report.restore!.seconds).toBe(report.restore!.baseSeconds + report.restore!.replaySeconds);
    const row = report.scenarios.find((s) => s.key === 'row')!;
    expect(row.expectedSeconds).toBe(report.restore!.seconds);
    expect(row.expected).toMatch(/^about .+ to restore plus the copy back \(depends on its size\), within the 120 min RTO$/);
    expect(report.scenarios.find((s) => s.key === 'disk')!.expectedSeconds).toBeNull();
    expect(report.scenarios.find((s) => s.key === 'regional')!.expected).toMatch(/no command yet/);
    const tight = scenariosReport({}, { catalog, rtoObjectiveSeconds: 1 });
    expect(tight.scenarios.find((s) => s.key === 'ransomware')!.expected).toMatch(/ABOVE the 1 s RTO/);
  });
  it('a few words put the likely scenario first, in the plan and the text', () => {
    const args = scenarios.parse(['dropped', 'table']);
    expect(args).toEqual({ about: 'dropped table' });
    const report = scenariosReport(args, { catalog, rtoObjectiveSeconds: 7200 });
    expect(report.likely).toBe('table');
    expect(report.scenarios[0]!.key).toBe('table');
    expect(scenariosText(report)).toMatch(/^A full restore of the newest backup \(20261206T000000Z\)[^\n]*\nLIKELY → a table dropped or truncated/);
    const plan = scenarios.plan!(args, { catalog, rtoObjectiveSeconds: 7200, now: new Date(), production: { name: 'p' }, requestId: 'r' });
    expect(plan.summary).toBe('Likely: a table dropped or truncated → /recover table <table> --at <time before the mistake>');
    expect(Object.keys(plan.facts)[0]).toBe('LIKELY: a table dropped or truncated');
  });
  it('beside the estimate, the RTO the drills measured, for the scenarios that restore; or that none did yet', () => {
    const drills = [
      { requestedAt: new Date('2026-12-01T03:00:00Z'), ok: true, rtoSeconds: 600 },
      { requestedAt: new Date('2026-12-02T03:00:00Z'), ok: true, rtoSeconds: 800 },
    ] as DrillRow[];
    const report = scenariosReport({}, { catalog, rtoObjectiveSeconds: 7200, drills });
    const measured = '11 min 40 s measured by restore drills (median of the last 2 drills, newest 2026-12-02)';
    expect(report.scenarios.filter((s) => s.measured === measured).map((s) => s.key).sort()).toEqual(['corruption', 'database', 'ransomware', 'row', 'table']);
    expect(report.scenarios.find((s) => s.key === 'disk')!.measured).toBeNull();
    expect(scenariosText(report)).toContain(`\n    drills: ${measured}`);
    const plan = scenarios.plan!({}, { catalog, rtoObjectiveSeconds: 7200, drills, now: new Date(), production: { name: 'p' }, requestId: 'r' });
    expect(plan.facts['rows deleted or changed by mistake']).toContain(`; ${measured}`);
    expect(scenariosReport({}, { catalog, rtoObjectiveSeconds: 7200 }).scenarios.find((s) => s.key === 'table')!.measured).toBe('no drill measured yet (`/recover drill` measures one)');
  });
  it('no backup: says so instead of a number', () => {
    const report = scenariosReport({}, { catalog: { ...catalog, backups: [] }, rtoObjectiveSeconds: 7200 });
    expect(report.restore).toBeNull();
    expect(report.scenarios.find((s) => s.key === 'table')!.expected).toMatch(/no restorable base backup/);
  });
});

describe('help with words', () => {
  it('parses the words; the Slack answer puts the likely scenario first, escaped', () => {
    expect(help.parse(['disk', 'full'])).toEqual({ about: 'disk full' });
    expect(help.parse([])).toEqual({});
    const message = helpMessage(COMMANDS, 'dropped <!channel> table');
    expect(message.text).toContain('likely: a table dropped or truncated → /recover table &lt;table&gt;');
    expect(JSON.stringify(message.blocks)).toContain('&lt;!channel&gt;');
    expect(JSON.stringify(message.blocks)).not.toContain('<!channel>');
    expect(JSON.stringify(helpMessage(COMMANDS, 'coffee'))).toContain('No scenario matches');
  });
  it('the CLI form names the CLI command', () => {
    expect(forSurface(likelyLine('disk full', matchScenario('disk full')!), 'cli')).toContain('→ recover disk (');
  });
});

describe('words', () => {
  it('options are refused, not taken as words', () => {
    expect(() => scenarios.parse(['--confirm', 'x'])).toThrow(/Unknown option --confirm/);
    expect(() => help.parse(['--at', 'x'])).toThrow(/Unknown option --at/);
    expect(() => scenarios.parse(['x'.repeat(201)])).toThrow(/at most 200 characters/);
  });
});
