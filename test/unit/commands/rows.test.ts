/** The words of /recover rows: the two forms, and refusals that say what to write. */
import { expect, test } from 'vitest';
import { parseRows } from '../../../commands/rows-args.js';
import { rows } from '../../../commands/rows.js';
import { RecoverError } from '../../../src/errors.js';

test.each([
  [['workflows', '--where', 'user_id = 12345', '--at', '2025-01-15T14:29:59+00:00'], { table: 'workflows', at: '2025-01-15T14:29:59Z', fromInstance: null, withChildren: false, db: null, keepInstance: false, instance: null }],
  [['app.workflows', '--where', "status in ('a','b')", '--at', '2025-01-15', '14:29:59+00:00', '--with-children', '--db', 'aiagent_prod'], { table: 'app.workflows', at: '2025-01-15T14:29:59Z', withChildren: true, db: 'aiagent_prod' }],
  [['workflows', '--where', 'user_id = 1', '--from-instance', 'rows-20250115T142959Z-ab', '--keep-instance'], { at: null, beforeXid: null, fromInstance: 'rows-20250115T142959Z-ab', keepInstance: true }],
  [['workflows', '--where', 'user_id = 12345', '--before-xid', '73519', '--with-children'], { at: null, beforeXid: '73519', fromInstance: null, withChildren: true }],
  [['workflows', '--where', 'user_id = 12345', '--before-xid=73519'], { at: null, beforeXid: '73519' }],
])('%j', (tokens, expected) => {
  expect(parseRows(tokens)).toMatchObject(expected);
});

test.each([
  [['--where', 'id = 1', '--at', '2025-01-15T14:29:59+00:00'], /Name the table/],
  [['workflows', '--at', '2025-01-15T14:29:59+00:00'], /--where "<filter>"/],
  [['workflows', '--where', 'id = 1'], /--at <time with offset>/],
  [['workflows', '--where', 'id = 1', '--from-instance', 'x1', '--at', '2025-01-15T14:29:59+00:00'], /takes no --at/],
  [['workflows', '--where', 'id = 1 or id = 2', '--at', '2025-01-15T14:29:59+00:00'], /"or" at position 8 is not supported/],
  [['workflows', '--where', 'id = 1', '--before-xid', '5', '--at', '2025-01-15T14:29:59+00:00'], /--before-xid is a recovery target of its own; it cannot be combined with a time/],
  [['workflows', '--where', 'id = 1', '--before-xid', '5', '2025-01-15T14:29:59+00:00'], /cannot be combined with a time/],
  [['workflows', '--where', 'id = 1', '--before-xid', 'abc'], /"abc" is not a transaction ID/],
  [['workflows', '--where', 'id = 1', '--before-xid', '2'], /"2" is not a transaction ID/],
  [['workflows', '--where', 'id = 1', '--before-xid'], /--before-xid needs a value/],
  [['workflows', '--where', 'id = 1', '--before-xid', '5', '--before-xid', '6'], /more than once/],
  [['workflows', '--where', 'id = 1', '--before-xid', '5', '--inclusive'], /Unknown option --inclusive/],
  [['workflows', '--where', 'id = 1', '--from-instance', 'x1', '--before-xid', '5'], /takes no --before-xid/],
  [['workflows; drop', '--where', 'id = 1', '--at', '2025-01-15T14:29:59+00:00'], /table: a table/],
  [['workflows', '--where', 'id = 1', '--from-instance', '../etc'], /an instance name/],
  [['workflows', '--where', 'id = 1', '--at', '2025-01-15T14:29:59+00:00', '--keep-instance'], /--keep-instance goes with --from-instance/],
])('%j is refused', (tokens, message) => {
  let error: unknown;
  try {
    parseRows(tokens);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(RecoverError);
  expect((error as RecoverError).message).toMatch(message);
});

test('a copy whose integrity checks fail afterwards is a failure (VERIFY_FAILED) naming the checks; a clean one is not', () => {
  const applied = (ok: boolean) => ({
    form: 'apply' as const,
    applied: {
      totals: { restored: 3, skippedPresent: 0, conflicting: 0 },
      tables: [],
      sequences: [],
      instanceName: 'rows-x',
      instanceRemoved: true,
      report: { ok, checks: [{ name: 'orphans', ok, message: ok ? 'none' : '2 orphan rows in public.workflow_executions' }], databases: [] },
    },
  });
  const params = { form: 'apply' as const, instanceName: 'rows-x', database: 'app', spec: { table: 'workflows', filter: 'id = 1', withChildren: false }, digest: 'a'.repeat(64), keepInstance: false };
  expect(rows.verdict!(applied(true) as never, params as never)).toBeNull();
  const failure = rows.verdict!(applied(false) as never, params as never);
  expect(failure).toBeInstanceOf(RecoverError);
  expect(failure?.code).toBe('VERIFY_FAILED');
  expect(failure?.message).toContain('2 orphan rows in public.workflow_executions');
});
