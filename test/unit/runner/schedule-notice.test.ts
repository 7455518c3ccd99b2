import { describe, expect, it } from 'vitest';
import { scheduleFailedText, scheduleRecoveredText } from '../../../src/runner/schedule-notice.js';

const slot = new Date('2025-01-15T02:00:00Z');

describe('scheduled backup and dump notices', () => {
  it.each([
    ['dump', /Scheduled dump of \*aiagent_prod\* failed \(slot 2025-01-15 02:00 UTC, runner r1\): STORAGE_ERROR: the store refused/, /`recover dump-backup`/, /RECOVER_DUMP_SCHEDULE/],
    ['backup', /Scheduled base backup of \*aiagent_prod\* failed/, /`recover backup`/, /RECOVER_BACKUP_SCHEDULE/],
  ] as const)('a failed %s says what failed, what to do, and when the next one is', (work, what, byHand, setting) => {
    const text = scheduleFailedText({ work, production: 'aiagent_prod', slot, runnerId: 'r1', error: { code: 'STORAGE_ERROR', message: 'the store refused the upload.', hint: 'Check the storage account.' }, next: new Date('2025-01-16T02:00:00Z') });
    expect(text).toMatch(what);
    expect(text).toContain('What to do: Check the storage account.');
    expect(text).toContain('2025-01-16 02:00 UTC');
    expect(text).toMatch(byHand);
    expect(text).toMatch(setting);
  });

  it('without a hint it points at the runner log; secrets in the error are masked', () => {
    const text = scheduleFailedText({ work: 'dump', production: 'p', slot, runnerId: 'r2', error: { code: 'COMMAND_FAILED', message: 'pg_dump: connection to postgres://backup:hunter2@db:5432/app failed; AccountKey=abc123==;' }, next: null });
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('abc123');
    expect(text).toContain("What to do: Check the runner r2's log");
    expect(text).toContain('Next scheduled dump: none');
  });

  it('the recovery notice names the slot that succeeded and since when it failed', () => {
    expect(scheduleRecoveredText({ work: 'dump', production: 'aiagent_prod', slot: new Date('2025-01-17T02:00:00Z'), failingSince: slot, detail: 'dumps app/20250117020000' })).toBe(
      ':white_check_mark: Scheduled dumps of *aiagent_prod* work again: the slot of 2025-01-17 02:00 UTC succeeded (dumps app/20250117020000), after failing since the slot of 2025-01-15 02:00 UTC.',
    );
  });
});
