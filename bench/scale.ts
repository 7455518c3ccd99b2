/**
 * The growth curve of a restore (issue 24, item 2), ours and pgBackRest side by side:
 *
 *   npm run bench:scale -- [--scales 50,300,1000] [--segments 60] [--mid 15] [--rounds 1]
 *
 * For each pgbench scale, one bench:peer "base" shape (bench/peer/shape.ts: the same cluster and
 * WAL archived by both tools, full backups by both) restored by both tools to two targets: an
 * LSN `--mid` segments after the base and the end of `--segments`: two sizes of WAL per size
 * of base. Every restore is hashed against production at its target. Each restore's phases
 * (bench/peer/phases.ts: select, base download+extract, replay, promote, verify) go into one
 * table; then, per tool and phase, a least-squares line against the size that drives it (base
 * GB for select, base, verify; WAL GB for replay and promote; src/estimate/fit.ts), and the
 * projection of a 100 GB and a 1 TB restore from those lines with the plan's own arithmetic.
 * Never asserts. Timings on a shared machine swing; rounds alternate the tools' order.
 */
import { availableParallelism } from 'node:os';
import { fitLine, projectRestore, rateOf, type Line } from '../src/estimate/fit.js';
import type { MeasuredRates } from '../src/estimate/rates.js';
import { formatDuration } from '../src/util/format.js';
import { PHASE_NAMES, type Phases } from './peer/phases.js';
import { ensurePgBackRest } from './peer/pgbackrest.js';
import { fmt, log, median, runShape, type RestoreRecord, type Tool } from './peer/shape.js';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
};
const SCALES = (flag('scales') ?? '50,300,1000').split(',').map(Number);
const SEGMENTS = Number(flag('segments') ?? 60);
const MID = Number(flag('mid') ?? 15);
const ROUNDS = Number(flag('rounds') ?? 1);
const TOOLS: Tool[] = ['ours', 'pgbr'];
const GB = 1e9;
const CORES = availableParallelism();

interface Row extends RestoreRecord {
  scale: number;
  baseBytes: number;
  walBytes: number;
}

log(await ensurePgBackRest(log));
const rows: Row[] = [];
for (const scale of SCALES) {
  const shape = await runShape(`scale ${scale}`, { scale, segments: SEGMENTS, midSegments: MID, initBeforeBase: true, loadSeconds: 5 }, { rounds: ROUNDS, pgbrCompress: 'lz4', tools: TOOLS, midTarget: true });
  for (const restore of shape.restores) rows.push({ ...restore, scale, baseBytes: shape.baseBytes, walBytes: shape.walBytes[restore.target] ?? Number.NaN });
  if (!shape.hashIdentical) log(`!!!!! scale ${scale}: a restore differed from production: its figures are invalid`);
}

const cell = (value: number | null) => (value === null ? '—' : fmt(value));
const header = ['scale', 'base GB', 'WAL GB', 'tool', 'round', ...PHASE_NAMES, 'to promoted', 'with verify'];
const table = [
  header,
  ...rows.map((r) => [String(r.scale), fmt(r.baseBytes / GB), fmt(r.walBytes / GB), r.tool, String(r.round), ...PHASE_NAMES.map((p) => cell(r.phases[p])), fmt(r.seconds), fmt(r.seconds + (r.phases.verify ?? 0))]),
];
const widths = header.map((_, i) => Math.max(...table.map((line) => line[i]!.length)));
process.stdout.write(`\n${table.map((line) => line.map((c, i) => c.padStart(widths[i]!)).join('  ')).join('\n')}\n\n`);

// Per tool and phase: seconds against the size that drives the phase.
const driver: Record<keyof Phases, 'baseBytes' | 'walBytes'> = { select: 'baseBytes', base: 'baseBytes', replay: 'walBytes', promote: 'walBytes', verify: 'baseBytes' };
const fits: Record<string, Partial<Record<keyof Phases, Line>>> = {};
for (const tool of TOOLS) {
  fits[tool] = {};
  for (const phase of PHASE_NAMES) {
    const points = rows.flatMap((r) => (r.tool === tool && r.phases[phase] !== null ? [{ x: r[driver[phase]] / GB, y: r.phases[phase]! }] : []));
    if (points.length < 2) continue;
    const line = fitLine(points);
    fits[tool]![phase] = line;
    process.stdout.write(`fit ${tool} ${phase}: ${fmt(line.intercept)} s + ${fmt(line.slope)} s per ${driver[phase] === 'baseBytes' ? 'base' : 'WAL'} GB (${line.points} restores)\n`);
  }
}

// The plan's model (src/estimate/rates.ts) from the fits: base at its rate, replay at its rate then promote as the tail.
// The lines are fitted per GB; rates are per byte.
const perByte = (line: Line): Line => ({ ...line, slope: line.slope / GB });
const ratesOf = (tool: Tool): MeasuredRates => {
  const f = fits[tool]!;
  const promote = median(rows.filter((r) => r.tool === tool && r.phases.promote !== null).map((r) => r.phases.promote!));
  return {
    ...(f.base ? { 'restore-base-backup': rateOf(perByte(f.base)) } : {}),
    ...(f.replay ? { 'replay-wal': rateOf(perByte(f.replay), Number.isFinite(promote) ? promote : 0) } : {}),
  };
};
const SIZES = [
  { name: '100 GB base + 10 GB WAL', baseBytes: 100 * GB, walBytes: 10 * GB },
  { name: '1 TB base + 100 GB WAL', baseBytes: 1000 * GB, walBytes: 100 * GB },
];
for (const tool of TOOLS) {
  const rates = ratesOf(tool);
  const r = (phase: keyof MeasuredRates) => (rates[phase] ? `${(rates[phase]!.bytesPerSecond / 1e6).toFixed(0)} MB/s after ${rates[phase]!.startupSeconds.toFixed(1)} s` : 'n/a');
  process.stdout.write(`${tool} rates: base ${r('restore-base-backup')}, replay ${r('replay-wal')} then ${rates['replay-wal']?.tailSeconds.toFixed(1) ?? 'n/a'} s promote\n`);
  for (const size of SIZES) {
    for (const cores of [CORES, 8, 16]) {
      const f = fits[tool]!;
      // Select and verify as their lines say at this base (issue 24, item 1: verify should not grow).
      const fixed = (['select', 'verify'] as const).reduce((s, p) => s + (f[p] ? Math.max(0, f[p]!.intercept + f[p]!.slope * (size.baseBytes / GB)) : 0), 0);
      const p = projectRestore(rates, size, cores, CORES, fixed);
      process.stdout.write(`  ${size.name}, ${cores} cores: ${formatDuration(p.totalSeconds)} (base ${formatDuration(p.baseSeconds)}, replay ${formatDuration(p.replaySeconds)}, select+verify ${formatDuration(p.fixedSeconds)}; bounded by ${p.bound})\n`);
    }
  }
}
