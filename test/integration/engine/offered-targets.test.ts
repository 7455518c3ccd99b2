/**
 * Every target a refusal offers restores: the window's ends (and its end minus 1 ms), the
 * newest time that restores (inclusive, and the --exclusive one), --latest, --immediate.
 * Each refusal that offers targets is made, each offer is parsed out of its words and fed
 * back into planning with the PostgreSQL tools (the runner's check), which must accept it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { planPitr } from '../../../src/engine/pitr.js';
import type { PitrTargetRequest } from '../../../src/engine/pitr-plan.js';
import { parseTargetTime, timeTarget } from '../../../src/catalog/targets.js';
import { readStreamToBuffer } from '../../../src/util/streams.js';
import { rejection } from '../../support/refusal.js';

let sandbox: Sandbox;
const segments: string[] = [];
let beforeBackup: string;

beforeAll(async () => {
  sandbox = await startSandbox({ productionSettings: { autovacuum: 'off' } });
  await sandbox.query('CREATE TABLE t (id int PRIMARY KEY)');
  beforeBackup = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 5));
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  for (let batch = 0; batch < 4; batch++) {
    await sandbox.query(`INSERT INTO t SELECT g FROM generate_series($1::int * 100 + 1, $1::int * 100 + 100) g`, [batch]);
    segments.push(await sandbox.switchAndArchive());
  }
}, 180_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

const TIME = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)`;

/** `time` moved by `micros` microseconds, written in UTC with microseconds. */
function shifted(time: string, micros: bigint): string {
  const at = parseTargetTime(time).epochMicros + micros;
  const iso = new Date(Number(at / 1000n)).toISOString();
  return `${iso.slice(0, 23)}${String(at % 1000n).padStart(3, '0')}+00:00`;
}

/** Every target a refusal's words offer, as requests to plan. */
function offeredTargets(hint: string): { offer: string; request: PitrTargetRequest }[] {
  const offers: { offer: string; request: PitrTargetRequest }[] = [];
  const at = (offer: string, time: string, inclusive = true) => offers.push({ offer, request: { target: timeTarget(time), inclusive } });
  const window = new RegExp(`Restorable window \\(timeline \\d+\\): (${TIME}) … (${TIME})`).exec(hint);
  if (window) {
    at('window start', window[1]!);
    at('window end', window[2]!);
    at('window end minus 1 ms', shifted(window[2]!, -1000n));
  }
  for (const m of hint.matchAll(new RegExp(`newest time that restores is (${TIME})`, 'g'))) at('newest time', m[1]!);
  for (const m of hint.matchAll(new RegExp(`(${TIME}) with --exclusive`, 'g'))) at('newest time, --exclusive', m[1]!, false);
  for (const m of hint.matchAll(new RegExp(`--at (${TIME})`, 'g'))) at('--at', m[1]!);
  if (/--latest\b/.test(hint)) offers.push({ offer: '--latest', request: { target: { kind: 'latest' } } });
  if (/--immediate\b/.test(hint)) offers.push({ offer: '--immediate', request: { target: { kind: 'immediate' } } });
  return offers;
}

async function expectEveryOfferRestores(request: PitrTargetRequest, code: string): Promise<string[]> {
  const refusal = await rejection(planPitr(sandbox.context(), request, sandbox.config.pg));
  expect(refusal.code).toBe(code);
  const offers = offeredTargets(refusal.hint ?? '');
  expect(offers.length).toBeGreaterThan(0);
  const refused: string[] = [];
  for (const { offer, request: again } of offers) {
    const outcome = await planPitr(sandbox.context(), again, sandbox.config.pg).then(
      () => null,
      (error: unknown) => `${offer}: ${(error as Error).message}`,
    );
    if (outcome) refused.push(outcome);
  }
  expect(refused, refusal.hint).toEqual([]);
  return offers.map((o) => o.offer);
}

describe('each refusal that offers targets offers only targets that restore', () => {
  test('TARGET_OUTSIDE_WINDOW: a target past the last transaction', async () => {
    const offers = await expectEveryOfferRestores({ target: timeTarget(new Date().toISOString()), inclusive: true }, 'TARGET_OUTSIDE_WINDOW');
    expect(offers).toEqual(expect.arrayContaining(['window end', 'newest time', 'newest time, --exclusive', '--latest']));
  });

  test('TARGET_OUTSIDE_WINDOW: a target before the first base backup', async () => {
    const offers = await expectEveryOfferRestores({ target: timeTarget(beforeBackup), inclusive: true }, 'TARGET_OUTSIDE_WINDOW');
    expect(offers).toEqual(expect.arrayContaining(['window start', 'window end', 'window end minus 1 ms']));
  });

  test('WAL_GAP: a target behind a missing segment', async () => {
    const key = `${sandbox.storage.walPrefix}${segments[2]}`;
    const original = await readStreamToBuffer(await sandbox.storage.wal.getStream(key));
    const info = await sandbox.storage.wal.head(key);
    await sandbox.storage.wal.delete(key);
    try {
      const offers = await expectEveryOfferRestores({ target: timeTarget(new Date().toISOString()), inclusive: true }, 'WAL_GAP');
      expect(offers).toEqual(expect.arrayContaining(['window start', 'window end', 'newest time']));
    } finally {
      await sandbox.storage.wal.put(key, original, { metadata: info!.metadata });
    }
  });
});
