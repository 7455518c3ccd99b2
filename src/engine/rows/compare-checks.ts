/**
 * The integrity report's comparison with production after a rows copy (pure): per restored
 * table, production's rows before and after the write, the inserted rows' hash as the side
 * instance has them against the hash of what production stored, and the side instance's rows
 * matching the filter read again after the commit — every one present in production by
 * primary key with the same values, except the conflicts and differences reported (left alone).
 */
import type { IntegrityCheck } from '../integrity/types.js';
import type { CopyResult, RowsPreview } from './copy-back.js';

const short = (hash: string) => hash.slice(0, 12);

export function restoredRowsChecks(database: string, copied: CopyResult, after: RowsPreview): IntegrityCheck[] {
  return copied.tables.map((copy) => {
    const now = after.tables.find((t) => t.table === copy.table);
    const name = `restored rows ${database}.${copy.table}`;
    const written = `production ${copy.rowsBefore} → ${copy.rowsAfter} rows by the write`;
    if (!now) return { name, ok: false, message: `${written}; the side instance's rows could not be read again after the commit` };
    const sameValues = copy.sideHash === copy.productionHash;
    const stored = sameValues
      ? `${copy.restored} rows inserted with the side instance's values (hash ${short(copy.sideHash)} on both sides)`
      : `${copy.restored} rows inserted, but production stored other values than the side instance's (hash side ${short(copy.sideHash)}, production ${short(copy.productionHash)})`;
    const side = `side instance: ${now.matching} rows match the filter; now ${now.present} present in production with the same values, ${now.different} different, ${now.conflicting} conflicting (left alone)`;
    const orphans = now.parentSkipped > 0 ? `; ${now.parentSkipped} child rows skipped because their parent did not go back or differs in production` : '';
    const missing = now.missing > 0 ? `; ${now.missing} still missing in production, e.g. ${now.sampleMissing.join(' ')}` : '';
    return { name, ok: sameValues && now.missing === 0, message: `${stored}; ${written}; ${side}${orphans}${missing}` };
  });
}
