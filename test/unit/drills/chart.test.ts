import { compile } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import { rtoChartSpec, rtoChartText, type DrillPoint } from '../../../src/drills/chart.js';
import { renderPng } from '../../../src/drills/chart-png.js';

const objective = { rtoSeconds: 7200, warnShare: 0.5 };
const ok = (at: string, rtoSeconds: number): DrillPoint => ({ at, ok: true, rtoSeconds });
const failed = (at: string): DrillPoint => ({ at, ok: false, rtoSeconds: null });
const D1 = '2026-12-01T10:00:00.000Z';
const D2 = '2026-12-02T10:00:00.000Z';
const D3 = '2026-12-03T10:00:00.000Z';

type Layer = { mark: { type: string; strokeDash?: number[] }; encoding: { y?: { datum?: number } } };
const layers = (points: DrillPoint[]) => (rtoChartSpec(points, objective) as unknown as { layer: Layer[] }).layer;
const marks = (points: DrillPoint[]) => layers(points).map((l) => (l.mark.strokeDash ? 'dashed rule' : l.mark.type));

describe('rtoChartSpec', () => {
  it.each([
    ['RTOs far below the warning: the line only', [ok(D1, 600), ok(D2, 660)], ['line'], 'goal 2 h 0 min, warned past 1 h 0 min'],
    ['a failed drill: a red rule', [ok(D1, 600), failed(D2)], ['line', 'rule'], 'warned past 1 h 0 min; 1 failed (red)'],
    ['an RTO within reach of the warning: its dashed line', [ok(D1, 1800), ok(D2, 4000)], ['line', 'dashed rule'], 'warned past 1 h 0 min (dashed)'],
    ['only failures: no threshold to flatten against', [failed(D1)], ['line', 'rule'], '; 1 failed (red)'],
  ])('%s', (_name, points, expectedMarks, subtitle) => {
    expect(marks(points)).toEqual(expectedMarks);
    const spec = rtoChartSpec(points, objective) as unknown as { title: { subtitle: string } };
    expect(spec.title.subtitle).toContain(subtitle);
    expect(() => compile(rtoChartSpec(points, objective))).not.toThrow();
  });

  it('plots minutes oldest first, failed drills without a value, and drops drills without a time', () => {
    const spec = rtoChartSpec([ok(D3, 90), failed(D2), ok(D1, 600), { at: 'never', ok: true, rtoSeconds: 5 }], objective) as unknown as { data: { values: unknown[] }; title: { text: string } };
    expect(spec.data.values).toEqual([
      { at: D1, minutes: 10, result: 'ok' },
      { at: D2, minutes: null, result: 'failed' },
      { at: D3, minutes: 1.5, result: 'ok' },
    ]);
    expect(spec.title.text).toBe('Restore drill RTO, last 3 drills');
  });

  it('draws the warning line at its minutes', () => {
    expect(layers([ok(D1, 3000)]).at(-1)?.encoding.y?.datum).toBe(60);
  });
});

describe('rtoChartText', () => {
  it.each([
    [[ok(D2, 754), failed(D3), ok(D1, 600)], 1000, 'RTO of the last 3 restore drills, oldest first: 2026-12-01 10:00Z 10 min 0 s; 2026-12-02 10:00Z 12 min 34 s; 2026-12-03 10:00Z FAILED. RTO goal 2 h 0 min, warned past 1 h 0 min.'],
    [[ok(D1, 600), ok(D2, 30)], 140, 'RTO of the last 1 restore drill, oldest first (1 older left out): 2026-12-02 10:00Z 30 s. RTO goal 2 h 0 min, warned past 1 h 0 min.'],
    [[{ at: D1, ok: true, rtoSeconds: null }], 1000, 'RTO of the last 1 restore drill, oldest first: 2026-12-01 10:00Z ok, RTO not measured. RTO goal 2 h 0 min, warned past 1 h 0 min.'],
    [[ok(D1, 600), ok(D2, 30)], 60, '2 restore drills. RTO goal 2 h 0 min, warned past 1 h 0 min.'],
  ])('%#', (points, max, expected) => {
    const text = rtoChartText(points, objective, max);
    expect(text).toBe(expected);
    expect(text.length).toBeLessThanOrEqual(max);
  });

  it('fits Slack\'s 1000-character alt text however many drills', () => {
    const many = Array.from({ length: 100 }, (_, i) => ok(new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString(), 600 + i));
    const text = rtoChartText(many, objective);
    expect(text.length).toBeLessThanOrEqual(1000);
    expect(text).toMatch(/older left out\): .*2026-04-10 00:00Z 11 min 39 s\. RTO goal/);
  });
});

describe('renderPng', () => {
  it('draws the spec as a PNG twice the size of the chart', async () => {
    const png = await renderPng(rtoChartSpec([ok(D1, 600), failed(D2), ok(D3, 660)], objective));
    expect(png.bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // IHDR: width and height, big-endian, at bytes 16 and 20.
    expect([png.bytes.readUInt32BE(16), png.bytes.readUInt32BE(20)]).toEqual([png.width, png.height]);
    expect(png.width).toBeGreaterThan(960);
    expect(png.height).toBeGreaterThan(400);
  }, 30_000);
});
