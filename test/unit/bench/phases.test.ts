/** bench:scale's split of a restore into phases, from the CLI's step lines and the server log (pure). */
import { describe, expect, it } from 'vitest';
import { oursPhases, pgbrPhases, promoteSeconds, promoteSecondsUntil, stepSeconds } from '../../../bench/peer/phases.js';

const serverLog = (lines: string[]) => lines.map((l) => `2026-12-07 01:46:${l}`).join('\n');

describe('promoteSeconds', () => {
  it.each<[string, string, number | null]>([
    ['redo done to ready', serverLog(['01.100 UTC [9] LOG:  redo starts at 0/2000028', '05.250 UTC [9] LOG:  redo done at 0/A3E8790 system usage: CPU', '06.000 UTC [8] LOG:  database system is ready to accept connections']), 0.75],
    // Ours restarts the promoted server after syncing it: the last "ready" counts.
    [
      'a restart after the promotion is part of it',
      serverLog(['05.000 UTC [9] LOG:  redo done at 0/A3E8790', '05.500 UTC [8] LOG:  database system is ready to accept connections', '09.500 UTC [20] LOG:  database system is ready to accept connections']),
      4.5,
    ],
    ['no redo done: unknown', serverLog(['06.000 UTC [8] LOG:  database system is ready to accept connections']), null],
    ['read-only readiness is not the promotion', serverLog(['05.000 UTC [9] LOG:  redo done at 0/1', '04.000 UTC [8] LOG:  database system is ready to accept read-only connections']), null],
  ])('%s', (_name, text, seconds) => {
    const got = promoteSeconds(text);
    if (seconds === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(seconds, 6);
  });
});

describe('promoteSecondsUntil', () => {
  const handedOver = Date.parse('2026-12-07T01:46:08.000Z');
  it.each<[string, string, number | null]>([
    // Ours syncs while the server already accepts connections: the promotion ends when the CLI says so.
    ['redo done to the handover', serverLog(['05.250 UTC [9] LOG:  redo done at 0/A3E8790', '06.000 UTC [8] LOG:  database system is ready to accept connections']), 2.75],
    ['no redo done: unknown', serverLog(['06.000 UTC [8] LOG:  database system is ready to accept connections']), null],
    ['a log in another zone cannot be compared with the clock', serverLog(['05.250 CET [9] LOG:  redo done at 0/A3E8790']), null],
    ['a handover before redo done is not a time', serverLog(['09.000 UTC [9] LOG:  redo done at 0/A3E8790']), null],
  ])('%s', (_name, text, seconds) => {
    const got = promoteSecondsUntil(text, handedOver);
    if (seconds === null) expect(got).toBeNull();
    else expect(got).toBeCloseTo(seconds, 6);
  });
});

describe('phases', () => {
  it('ours: CLI start and select, the base step, replay less the promotion, verify', () => {
    const steps = stepSeconds('  ✓ select (0.2 s)\n  ✓ restore-base-backup (3.6 s)\n  ✓ configure-recovery (0.1 s)\n  ✓ replay-wal (6.0 s) — promoted\n  ✓ verify (0.4 s)\n');
    expect(steps).toEqual({ select: 0.2, 'restore-base-backup': 3.6, 'configure-recovery': 0.1, 'replay-wal': 6, verify: 0.4 });
    const phases = oursPhases(steps, 4, 1.5);
    expect(phases).toMatchObject({ base: 3.6, promote: 1.5, verify: 0.4 });
    expect(phases.select).toBeCloseTo(4.2, 6);
    expect(phases.replay).toBeCloseTo(4.6, 6);
  });
  it('pgBackRest: its restore, then start and replay, then the promotion', () => {
    expect(pgbrPhases(20, 30, 2)).toEqual({ select: null, base: 20, replay: 8, promote: 2, verify: null });
  });
});
