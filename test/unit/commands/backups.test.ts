import { describe, expect, it } from 'vitest';
import { backups } from '../../../commands/backups.js';
import { at, linearCatalog } from '../catalog/catalog-fixtures.js';

const base = { now: at(52), production: { name: 'aiagent_prod' }, requestId: 'r1', rpoObjectiveSeconds: 900 };

describe('/recover backups: retention and schedule in the facts Slack shows', () => {
  it('says per backup whether retention keeps it and why, the WAL it keeps, and the next scheduled backup', () => {
    const plan = backups.plan!({}, { ...base, catalog: linearCatalog(), retention: { full: 1 }, backupSchedule: '0 2 * * *' });
    expect(plan.facts).toMatchObject({
      'Base backups': '20250115T100000Z (2025-01-15T10:01:00.000Z; expires at the next run: not one of the newest 1), 20250115T102900Z (2025-01-15T10:31:00.000Z; kept: newest backup)',
      Retention: 'keep the newest 1 backups: 1 backup(s) kept, 1 expire at the next run; 4 WAL file(s) expire; restorable from 2025-01-15T10:31:00.000Z afterwards',
      'WAL kept': 'timeline 1 000000010000000000000006 … 00000001000000000000000A (5 files)',
      'Scheduled backups': '0 2 * * * (UTC), next 2025-01-16T02:00:00.000Z',
    });
  });

  it('without a policy or a schedule says how to set them, and lists backups as before', () => {
    const plan = backups.plan!({}, { ...base, catalog: linearCatalog() });
    expect(plan.facts['Base backups']).toBe('20250115T100000Z (2025-01-15T10:01:00.000Z), 20250115T102900Z (2025-01-15T10:31:00.000Z)');
    expect(plan.facts.Retention).toBe('none (everything is kept): set RECOVER_RETENTION_FULL and/or RECOVER_RETENTION_DAYS');
    expect(plan.facts['WAL kept']).toBeUndefined();
    expect(plan.facts['Scheduled backups']).toBe('none (RECOVER_BACKUP_SCHEDULE unset)');
  });
});
