import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SEGMENT_SIZE,
  formatLsn,
  historyFileName,
  parseHistoryFile,
  parseHistoryFileTimeline,
  parseLsn,
  parseSegmentName,
  segmentName,
  segmentOfLsn,
  segmentStartLsn,
  segmentsBetween,
  timelineForSegment,
  timelinePath,
  walFileKind,
} from '../../../src/catalog/segments.js';

const MiB = 1024 * 1024;

describe('parseLsn / formatLsn', () => {
  it.each([
    ['0/0', 0n, '0/0'],
    ['0/3000028', 0x3000028n, '0/3000028'],
    ['16/B374D848', (0x16n << 32n) | 0xb374d848n, '16/B374D848'],
    ['16/b374d848', (0x16n << 32n) | 0xb374d848n, '16/B374D848'],
    ['FFFFFFFF/FFFFFFFF', 0xffff_ffff_ffff_ffffn, 'FFFFFFFF/FFFFFFFF'],
    ['0/03000028', 0x3000028n, '0/3000028'],
    ['  1/0 ', 0x1_0000_0000n, '1/0'],
  ])('%j parses to %s and prints as %s', (text, value, printed) => {
    expect(parseLsn(text)).toBe(value);
    expect(formatLsn(value)).toBe(printed);
    expect(parseLsn(formatLsn(value))).toBe(value);
  });

  it.each(['', '0', '0/', '/1', '1/2/3', '0x1/2', '-1/0', '123456789/0', '0/123456789', 'G/0', '0 / 1', '0/1;'])('refuses %j', (text) => {
    expect(() => parseLsn(text)).toThrow(/not an LSN/);
  });
});

describe('segment names', () => {
  it.each([
    [DEFAULT_SEGMENT_SIZE, 1, 0n, '000000010000000000000000'],
    [DEFAULT_SEGMENT_SIZE, 1, 0xfen, '0000000100000000000000FE'],
    [DEFAULT_SEGMENT_SIZE, 1, 0xffn, '0000000100000000000000FF'],
    [DEFAULT_SEGMENT_SIZE, 1, 0x100n, '000000010000000100000000'],
    [DEFAULT_SEGMENT_SIZE, 0x1a, 0x16b3n, '0000001A00000016000000B3'],
    [1 * MiB, 1, 0xfffn, '000000010000000000000FFF'],
    [1 * MiB, 1, 0x1000n, '000000010000000100000000'],
    [1 * MiB, 3, 0x2005n, '000000030000000200000005'],
    [64 * MiB, 1, 0x3fn, '00000001000000000000003F'],
    [64 * MiB, 1, 0x40n, '000000010000000100000000'],
    [64 * MiB, 2, 0x85n, '000000020000000200000005'],
  ])('size %i: timeline %i segno %s is %s', (size, timeline, segno, name) => {
    expect(segmentName(timeline, segno, size)).toBe(name);
    expect(parseSegmentName(name, size)).toEqual({ timeline, segno });
  });

  it('the segment after 0xFF starts the next log (16 MiB)', () => {
    const last = parseSegmentName('0000000100000000000000FF')!;
    expect(segmentName(last.timeline, last.segno + 1n)).toBe('000000010000000100000000');
  });

  it('matches pg_walfile_name for 16/B374D848', () => {
    expect(segmentName(1, segmentOfLsn(parseLsn('16/B374D848')))).toBe('0000000100000016000000B3');
    expect(segmentStartLsn(0x16b3n)).toBe(parseLsn('16/B3000000'));
  });

  it.each([
    ['000000010000000000000100', DEFAULT_SEGMENT_SIZE],
    ['000000010000000000001000', 1 * MiB],
    ['000000010000000000000040', 64 * MiB],
    ['00000001000000000000000a', DEFAULT_SEGMENT_SIZE],
    ['00000001000000000000000', DEFAULT_SEGMENT_SIZE],
    ['0000000100000000000000001', DEFAULT_SEGMENT_SIZE],
    ['00000002.history', DEFAULT_SEGMENT_SIZE],
    ['', DEFAULT_SEGMENT_SIZE],
  ])('parseSegmentName(%j, %i) is null', (name, size) => {
    expect(parseSegmentName(name, size)).toBeNull();
  });
});

describe('walFileKind', () => {
  it.each([
    ['000000010000000000000001', 'segment'],
    ['0000000A00000003000000FF', 'segment'],
    ['00000002.history', 'history'],
    ['000000010000000000000002.00000028.backup', 'backup-history'],
    ['000000010000000000000005.partial', 'partial'],
    ['../x', null],
    ['', null],
    ['00000001000000000000000a', null],
    ['0000000a.history', null],
    ['00000002.HISTORY', null],
    ['000000010000000000000001\n', null],
    ['/tmp/000000010000000000000001', null],
    ['../000000010000000000000001', null],
    ['000000010000000000000001.partial.tmp', null],
    ['000000010000000000000002.0000028.backup', null],
    ['2.history', null],
    ['000000010000000000000001 ', null],
  ])('%j is %s', (name, kind) => {
    expect(walFileKind(name)).toBe(kind);
  });
});

describe('history files', () => {
  it('names and parses history file names', () => {
    expect(historyFileName(2)).toBe('00000002.history');
    expect(historyFileName(0x1f)).toBe('0000001F.history');
    expect(parseHistoryFileTimeline('0000001F.history')).toBe(31);
    expect(parseHistoryFileTimeline('000000010000000000000001')).toBeNull();
  });

  it('skips comments and blank lines and keeps the reason', () => {
    const text = [
      '# written by hand',
      '',
      '1\t0/5000A00\tno recovery target specified',
      '   ',
      '  # indented comment',
      '2\t1/2000000\tbefore 2025-01-15 10:30:00+00',
      '',
    ].join('\n');
    expect(parseHistoryFile(text)).toEqual([
      { timeline: 1, switchLsn: 0x5000a00n, reason: 'no recovery target specified' },
      { timeline: 2, switchLsn: 0x1_0200_0000n, reason: 'before 2025-01-15 10:30:00+00' },
    ]);
  });

  it('accepts CRLF line endings and lines without a reason', () => {
    expect(parseHistoryFile('1\t0/3000000\r\n')).toEqual([{ timeline: 1, switchLsn: 0x3000000n, reason: '' }]);
  });

  it.each([['x\t0/1\treason'], ['1'], ['-1\t0/1'], ['1.5\t0/1'], ['1\tnot-an-lsn\treason']])('refuses the malformed line %j', (line) => {
    expect(() => parseHistoryFile(`1\t0/1000000\tok\n${line}\n`)).toThrow(/malformed timeline history line|not an LSN/);
  });
});

describe('timeline paths', () => {
  const history = parseHistoryFile('1\t0/5000A00\tfirst\n2\t0/9000000\tsecond\n');

  it('timelinePath lists ancestors with their switch points, then the target', () => {
    expect(timelinePath(3, history)).toEqual([
      { timeline: 1, beginLsn: 0n, endLsn: 0x5000a00n },
      { timeline: 2, beginLsn: 0x5000a00n, endLsn: 0x9000000n },
      { timeline: 3, beginLsn: 0x9000000n, endLsn: null },
    ]);
    expect(timelinePath(1, [])).toEqual([{ timeline: 1, beginLsn: 0n, endLsn: null }]);
  });

  it.each([
    [0n, 1],
    [4n, 1],
    [5n, 2], // holds the switch point 0/5000A00: read from the new timeline
    [8n, 2],
    [9n, 3], // a switch exactly at the segment boundary 0/9000000
    [0x200n, 3],
  ])('segment %s is read from timeline %i', (segno, timeline) => {
    expect(timelineForSegment(segno, timelinePath(3, history))).toBe(timeline);
  });

  it('with 64 MiB segments the switch segments change', () => {
    const path = timelinePath(2, parseHistoryFile('1\t0/9000000\tx\n'));
    expect(timelineForSegment(1n, path, 64 * MiB)).toBe(1);
    expect(timelineForSegment(2n, path, 64 * MiB)).toBe(2); // 0/9000000 lies in segment 2 (0/8000000..)
  });

  it('segmentsBetween walks the path across both switches', () => {
    expect(segmentsBetween(0x3000028n, 10n, timelinePath(3, history))).toEqual([
      '000000010000000000000003',
      '000000010000000000000004',
      '000000020000000000000005',
      '000000020000000000000006',
      '000000020000000000000007',
      '000000020000000000000008',
      '000000030000000000000009',
      '00000003000000000000000A',
    ]);
  });

  it('segmentsBetween crosses a log boundary and is empty when the end is before the start', () => {
    const path = timelinePath(1, []);
    expect(segmentsBetween(parseLsn('0/FF000000'), 0x101n, path)).toEqual(['0000000100000000000000FF', '000000010000000100000000', '000000010000000100000001']);
    expect(segmentsBetween(parseLsn('0/5000000'), 4n, path)).toEqual([]);
  });
});
