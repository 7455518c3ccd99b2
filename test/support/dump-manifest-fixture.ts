/** A dump manifest as `recover dump-backup` writes one, for unit tables. */
import { LSN_MEANING, type DumpManifest } from '../../src/engine/dumps/manifest.js';

const sha = (c: string) => c.repeat(64);
export function manifestFor(database: string, stamp: string, extra: Partial<DumpManifest> = {}): DumpManifest {
  return {
    formatVersion: 1, database, stamp, serverVersion: '15.10', serverVersionNum: 150010,
    encoding: 'UTF8', collate: 'C.UTF-8', ctype: 'C.UTF-8', provider: 'c', icuLocale: null, owner: 'app_owner',
    roles: ['app_owner', 'app_reader'], settings: ['work_mem=8MB'], databaseBytes: 9_000_000, dumpBytes: 1200,
    snapshot: { time: '2026-12-06T23:24:00.123Z', lsn: '0/3000060', lsnMeaning: LSN_MEANING },
    tables: [{ table: 'customers', rows: 2000 }, { table: 'orders', rows: 6000 }], jobs: 2,
    files: [{ name: 'files/toc.dat', bytes: 1000, sha256: sha('a') }, { name: 'globals.sql', bytes: 200, sha256: sha('b') }],
    startedAt: '2026-12-06T23:24:00Z', finishedAt: '2026-12-06T23:24:02Z', ...extra,
  };
}

