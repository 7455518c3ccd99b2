/**
 * Refusals, checked before anything runs: targets outside the window, a deleted WAL segment,
 * two targets at once; and an unreachable store during a restore fails without promotion.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runCli } from '../../support/run-cli.js';
import { startSandbox, type Sandbox } from '../../../devkit/sandbox.js';
import { takeBaseBackup } from '../../../src/engine/backup.js';
import { parseConnectionUrl } from '../../../src/util/connection-url.js';
import { exists } from '../../../src/engine/local-cluster.js';
import { runPitr } from '../../../src/engine/pitr.js';
import { RecoverError } from '../../../src/errors.js';
import { listAll } from '../../../src/storage/blob-store.js';
import { readStreamToBuffer } from '../../../src/util/streams.js';
import type { RecoveryTarget } from '../../../src/types.js';

let sandbox: Sandbox;
let beforeBackup: Date;
const segments: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox();
  await sandbox.query('CREATE TABLE t (id int PRIMARY KEY)');
  beforeBackup = new Date(Date.now() - 60_000);
  await takeBaseBackup(sandbox.context(), sandbox.config.pg, parseConnectionUrl(sandbox.productionUrl));
  for (let batch = 0; batch < 3; batch++) {
    await sandbox.query(`INSERT INTO t SELECT g FROM generate_series($1::int * 1000 + 1, $1::int * 1000 + 1000) g`, [batch]);
    segments.push(await sandbox.switchAndArchive());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}, 120_000);

afterAll(async () => {
  await sandbox?.cleanup();
});

async function refusal(target: RecoveryTarget): Promise<RecoverError> {
  const error = await runPitr(sandbox.context(), sandbox.config, { target, inclusive: true, action: 'promote', to: 'side' }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RecoverError);
  return error as RecoverError;
}

test('a time before the first base backup is refused with the restorable window', async () => {
  const error = await refusal({ kind: 'time', time: beforeBackup, raw: beforeBackup.toISOString() });
  expect(error.code).toBe('TARGET_OUTSIDE_WINDOW');
  expect(error.message).toContain('before the first base backup');
  expect(error.hint).toMatch(/Restorable window \(timeline 1\): \S+ … \S+/);
});

test('a time beyond the newest archived WAL is refused with the restorable window', async () => {
  const future = new Date(Date.now() + 3600_000);
  const error = await refusal({ kind: 'time', time: future, raw: future.toISOString() });
  expect(error.code).toBe('TARGET_OUTSIDE_WINDOW');
  expect(error.message).toContain('beyond the newest archived WAL');
  expect(error.hint).toContain('Restorable window');
});

test('two targets at once are refused by the CLI before anything runs', async () => {
  const { code, stderr } = await runCli(['pitr', '--at', '2025-01-15T14:29:59+00:00', '--xid', '1234'], {
    RECOVER_STORAGE_DRIVER: 'local',
    RECOVER_STORAGE_LOCAL_DIR: join(sandbox.root, 'unused'),
  });
  expect(code).toBe(2);
  expect(stderr).toContain('TARGET_CONFLICT');
  expect(stderr).toContain('--at and --xid');
});

test('a time without a zone is refused with an example', async () => {
  const { code, stdout } = await runCli(['pitr', '--at', '2025-01-15 14:29:59', '--json'], {});
  expect(code).toBe(2);
  const result = JSON.parse(stdout);
  expect(result).toMatchObject({ ok: false, code: 'TARGET_NO_ZONE' });
  expect(result.hint).toContain('2025-01-15T14:29:59+00:00');
});

test('a base backup whose bytes do not match its manifest is refused, and nothing is started', async () => {
  const [manifestBlob] = (await listAll(sandbox.storage.backups, 'daily/')).filter((blob) => blob.key.endsWith('/manifest.json'));
  const original = await readStreamToBuffer(await sandbox.storage.backups.getStream(manifestBlob!.key));
  const tampered = JSON.parse(original.toString('utf8'));
  tampered.files[0].sha256 = '0'.repeat(64);
  await sandbox.storage.backups.put(manifestBlob!.key, Buffer.from(JSON.stringify(tampered)));
  try {
    const error = await runPitr(sandbox.context(), sandbox.config, { target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'side', instanceName: 'corrupt' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((error as RecoverError).code).toBe('BACKUP_CORRUPT');
    expect((error as RecoverError).hint).toContain('older backup');
    expect(await exists(join(sandbox.config.restoreRoot, 'corrupt', 'data', 'postmaster.pid'))).toBe(false);
  } finally {
    await sandbox.storage.backups.put(manifestBlob!.key, original);
  }
});

test('an unreachable store during the restore fails fast, promotes nothing, and says so', async () => {
  const events = sandbox.context();
  let stopped = false;
  const context = {
    ...events,
    events: {
      emit: (event: Parameters<typeof events.events.emit>[0]) => {
        // The store goes away right after the base backup is in: WAL must not be faked as "end of WAL".
        if (!stopped && event.type === 'step.finished' && event.step === 'restore-base-backup') {
          stopped = true;
          void sandbox.azurite.stop();
        }
        events.events.emit(event);
      },
    },
  };
  const config = { ...sandbox.config, prefetch: { parallel: 1, ahead: 1 } };
  const error = await runPitr(context, config, { target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'side', instanceName: 'unreachable' }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RecoverError);
  const failure = error as RecoverError;
  expect(failure.code).toBe('RECOVERY_FAILED');
  expect(failure.message).toMatch(/Blob storage is unreachable|nothing was promoted/);
  expect(failure.message).toContain('postgresql-wal-archive');
  // Not promoted: recovery.signal is removed at promotion, and the server is not running.
  const dataDir = join(sandbox.config.restoreRoot, 'unreachable', 'data');
  await access(join(dataDir, 'recovery.signal'));
  expect(await exists(join(dataDir, 'postmaster.pid'))).toBe(false);
});
