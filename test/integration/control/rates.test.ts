/**
 * Measured rates in a real control DB: a sample's time profile (with unknown tenths) comes back
 * as it was written, the schema refuses profiles that are not nine shares in [0, 1], and a plan
 * carrying a profile in its estimate keeps its digest through the jsonb round trip.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCurrentPlan, planDigest, recentRateSamples, recordRateSample, type RateSampleRecord } from '../../../src/control/index.js';
import { aggregateRates, phaseEstimate } from '../../../src/estimate/rates.js';
import { queuedJob, requestWithPlan, testPlan, type TestDatabase, createTestDatabase } from './test-database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ migrated: true });
});
afterAll(async () => {
  await db?.drop();
});

const sample = (profile: RateSampleRecord['profile'], phase = 'replay-wal'): RateSampleRecord => ({
  phase,
  bytes: 3_600_000_000,
  seconds: 16.9,
  bytesPerSecond: 250e6,
  startupSeconds: 0.4,
  tailSeconds: 2.5,
  profile,
});

describe('measured profiles', () => {
  it('round-trips profiles with unknown tenths, and rows without one', async () => {
    const profile = [null, 0.29, 0.385, 0.49, 0.575, 0.685, 0.769, 0.85, 0.932];
    const withProfile = await queuedJob(db.pool, 'rates-a');
    const without = await queuedJob(db.pool, 'rates-a');
    await recordRateSample(db.pool, withProfile.id, sample(profile));
    await recordRateSample(db.pool, without.id, sample(null));
    const read = await recentRateSamples(db.pool, 'rates-a', 5);
    expect(read.map((s) => s.profile)).toEqual([null, profile]);
  });

  it.each<[string, number[]]>([
    ['eight shares', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]],
    ['ten shares', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]],
    ['a share above 1', [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.2]],
    ['a negative share', [-0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]],
  ])('refuses a profile with %s', async (_name, profile) => {
    const job = await queuedJob(db.pool, 'rates-b');
    await expect(recordRateSample(db.pool, job.id, sample(profile))).rejects.toThrow(/measured_rates_profile_check|check constraint/);
  });

  it('a plan whose estimate carries the measured profile keeps its digest after jsonb', async () => {
    const job = await queuedJob(db.pool, 'rates-c');
    await recordRateSample(db.pool, job.id, sample([0.17, 0.285, 0.39, 0.49, 0.575, 0.685, 0.769, 0.85, 0.932]));
    const rates = aggregateRates((await recentRateSamples(db.pool, 'rates-c', 5)).map((s) => ({ ...s, phase: 'replay-wal' as const })));
    const estimate = phaseEstimate('replay-wal', 3_500_000_000, rates);
    expect(estimate.profile).toEqual([0.17, 0.285, 0.39, 0.49, 0.575, 0.685, 0.769, 0.85, 0.932]);
    const plan = testPlan();
    plan.steps[0] = { ...plan.steps[0]!, kind: 'replay-wal', estimate, estimateSeconds: 17 };
    const { request, digest } = await requestWithPlan(db.pool, { plan });
    const saved = await getCurrentPlan(db.pool, request.id);
    expect(saved!.plan.steps[0]!.estimate).toEqual(estimate);
    expect(planDigest(saved!.plan, request.id)).toBe(digest);
  });
});
