/**
 * Content fingerprint of every user table in every database of a cluster, the same for any
 * physical layout: per table, the row count and two sums of 64-bit slices of md5(row text).
 * Order-independent and parallel-safe (PostgreSQL may use parallel workers), so a 30 M-row
 * pgbench_accounts needs neither sorting nor a 1 GB string_agg.
 */
import { withClient } from '../../src/engine/local-cluster.js';

const tablesSql = `
  SELECT format('%I.%I', n.nspname, c.relname) AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  ORDER BY 1`;

const fingerprintSql = (table: string) => `
  SELECT count(*)::text || ' rows ' ||
         coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint::numeric), 0)::text || ':' ||
         coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint::numeric), 0)::text AS fingerprint
  FROM (SELECT md5(t::text) AS h FROM ${table} t) rows`;

/** database.schema.table → fingerprint. */
export async function clusterFingerprint(cluster: { socketDir: string; port: number }): Promise<Record<string, string>> {
  const databases = await withClient(cluster, 'postgres', async (client) =>
    (await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datallowconn AND datname NOT IN ('template0', 'template1') ORDER BY 1`)).rows.map((row) => row.datname),
  );
  const result: Record<string, string> = {};
  for (const database of databases) {
    await withClient(cluster, database, async (client) => {
      for (const { name } of (await client.query<{ name: string }>(tablesSql)).rows) {
        result[`${database}.${name}`] = (await client.query<{ fingerprint: string }>(fingerprintSql(name))).rows[0]!.fingerprint;
      }
    });
  }
  return result;
}

/** The tables whose fingerprints differ (or exist on one side only). */
export function fingerprintDiff(expected: Record<string, string>, actual: Record<string, string>): string[] {
  const names = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  return [...names].filter((name) => expected[name] !== actual[name]).map((name) => `${name}: expected ${expected[name] ?? 'missing'}, got ${actual[name] ?? 'missing'}`);
}
