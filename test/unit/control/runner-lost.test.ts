/** The RUNNER_LOST message of an in-place restore says production may be stopped, where its data is, and what to type. */
import { expect, test } from 'vitest';
import { inPlaceRunnerLostMessage, isInPlacePlan } from '../../../src/control/runner-lost.js';

const base = { runnerId: 'runner-a', lastHeartbeat: '2026-01-01 00:00:00 UTC', dataDir: '/pg/data' };

test('in-place plans only', () => {
  expect(isInPlacePlan({ command: 'pitr', params: { to: 'in-place' } })).toBe(true);
  expect(isInPlacePlan({ command: 'pitr', params: { to: 'side' } })).toBe(false);
  expect(isInPlacePlan({ command: 'rows', params: { to: 'in-place' } })).toBe(false);
  expect(isInPlacePlan(null)).toBe(false);
});

test('lost during replay, after the move: names the kept directory and the exact commands', () => {
  const text = inPlaceRunnerLostMessage({ ...base, keptDir: '/pg/data.before-pitr-20260101T000000Z', runningStep: 'replay-wal', finished: ['select', 'stop-production', 'move-aside', 'restore-base-backup', 'configure-recovery'] });
  expect(text).toContain('during step replay-wal');
  expect(text).toContain('PRODUCTION MAY BE STOPPED');
  expect(text).toContain('kept, not deleted, at /pg/data.before-pitr-20260101T000000Z');
  expect(text).toContain('pg_ctl stop -D /pg/data -m immediate; mv /pg/data /pg/data.failed-pitr-manual; mv /pg/data.before-pitr-20260101T000000Z /pg/data; runuser -u postgres -- pg_ctl start -D /pg/data');
  expect(text).toContain('/pg/data.recover-journal.json');
});

test('lost while stopping production: may be stopped, nothing recorded as moved, how to start it', () => {
  const text = inPlaceRunnerLostMessage({ ...base, keptDir: null, runningStep: 'stop-production', finished: ['select'] });
  expect(text).toContain('PRODUCTION MAY BE STOPPED');
  expect(text).toContain('was not recorded as moved aside (look for /pg/data.before-pitr-* beside it)');
  expect(text).toContain('pg_ctl start -D /pg/data');
});

test('an old plan without the data directory still says production may be stopped', () => {
  const text = inPlaceRunnerLostMessage({ ...base, dataDir: null, keptDir: null, runningStep: null, finished: ['select', 'stop-production'] });
  expect(text).toContain('after step stop-production');
  expect(text).toContain('PRODUCTION MAY BE STOPPED');
  expect(text).toContain("production's data directory");
});
