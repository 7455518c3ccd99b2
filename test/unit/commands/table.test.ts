/** /recover table: the words (two forms, three modes), the plans, the refusals, and the pure SQL of the replace and as-new. */
import { expect, test } from 'vitest';
import { parseTable } from '../../../commands/table-args.js';
import { table, type TableFacts } from '../../../commands/table.js';
import type { RestoreSelection } from '../../../src/catalog/select-restore.js';
import { modeDigest, type TableComparison } from '../../../src/engine/table/compare.js';
import { everyRowFilter, ownSequenceSql, replaceSql } from '../../../src/engine/table/table-sql.js';
import { addForeignKeySql, dumpSql, entriesWithoutForeignKeys, tableDefinitionDumpArgs } from '../../../src/engine/table/dropped-sql.js';
import type { TableInfo } from '../../../src/engine/rows/table.js';
import { refusal } from '../../support/refusal.js';

const AT = '2025-01-15T14:29:59+00:00';

test.each([
  [['public.workflows', '--at', AT], { table: 'public.workflows', target: { kind: 'time', time: '2025-01-15T14:29:59Z' }, inclusive: true, mode: { kind: 'as-new', name: 'workflows_restored' }, defaultMode: true, db: null }],
  [['workflows', '--before-xid', '73519', '--mode', 'as-new', 'workflows_before', '--db', 'app'], { target: { kind: 'xid', xid: '73519' }, inclusive: false, mode: { kind: 'as-new', name: 'workflows_before' }, defaultMode: false, db: 'app' }],
  [['workflows', '--mode', 'as-new', 'old_wf', '--at', '2025-01-15', '14:29:59+00:00'], { target: { kind: 'time', time: '2025-01-15T14:29:59Z' }, mode: { kind: 'as-new', name: 'old_wf' } }],
  [['workflows', '--at', AT, '--mode', 'replace'], { mode: { kind: 'replace' } }],
  [['workflows', '--from-instance', 'table-20250115T142959Z-ab', '--mode', 'missing-rows', '--keep-instance'], { target: null, fromInstance: 'table-20250115T142959Z-ab', mode: { kind: 'missing-rows' }, keepInstance: true }],
])('%j', (tokens, expected) => {
  expect(parseTable(tokens)).toMatchObject(expected);
});

test.each([
  [['--at', AT], /Name the table/],
  [['workflows'], /Give the target: --at/],
  [['workflows', '--at', AT, '--mode', 'swap'], /--mode is one of as-new, missing-rows, replace/],
  [['workflows', '--at', AT, '--mode', 'as-new'], /--mode as-new needs the new table's name/],
  [['workflows', '--at', AT, '--mode', 'as-new', 'bad;name'], /mode.name: a name/],
  [['workflows', '--at', AT, '--before-xid', '5'], /cannot be combined with a time/],
  [['workflows', '--from-instance', 'x1', '--at', AT], /takes no --at or --before-xid/],
  [['workflows', '--at', AT, '--keep-instance'], /--keep-instance goes with --from-instance/],
  [['workflows; drop', '--at', AT], /table: a table/],
  [['workflows', '--at', AT, '--where', 'id = 1'], /Unknown option --where/],
])('%j is refused', (tokens, message) => {
  expect(refusal(() => parseTable(tokens)).message).toMatch(message);
});

const base = { now: new Date('2025-01-15T15:00:00Z'), production: { name: 'aiagent_prod' }, requestId: 'req-12345678' };
const selection = { backup: { id: 'b1', files: [{ name: 'base/part-00001.tar.zst', bytes: 8_000_000, sha256: 'x' }], startLsn: '0/3000028', walSegmentSize: 16_777_216 }, requiredSegments: ['000000010000000000000003', '000000010000000000000004'], walBytes: 33_554_432 } as unknown as RestoreSelection;
const comparison = (orphaned = 0): TableComparison => ({
  table: 'workflows',
  relation: { schema: 'public', name: 'workflows' },
  primaryKey: ['id'],
  sideRows: 50,
  productionRows: 42,
  missing: 9,
  present: 40,
  different: 1,
  onlyInProduction: 1,
  basis: 'by-key',
  outgoing: [],
  references: [{ constraint: 'executions_workflow_id_fkey', table: 'executions', orphaned }],
  sampleMissing: ['{"id": 12}'],
  sideHash: 'abc',
  rowsDigest: 'f'.repeat(64),
});
const plan = (tokens: string[], facts: Omit<TableFacts, 'database'>, database = 'app') => table.plan!(parseTable(tokens), { database, ...facts, ...base });

test('restore form: a side-copy plan, nothing destructive, the follow-up to copy', () => {
  const p = plan(['workflows', '--before-xid', '73519', '--db', 'app'], { selection, instancesInUse: [], asNewExists: false });
  expect(p.risk).toBe('side-copy');
  expect(p.steps.map((s) => s.kind)).toEqual(['select', 'restore-base-backup', 'configure-recovery', 'replay-wal', 'preview']);
  expect(p.steps.some((s) => s.destructive)).toBe(false);
  expect(p.facts.Target).toMatch(/just before transaction 73519/);
  expect(p.facts.Then).toMatch(/^\/recover table workflows --from-instance table-20250115T150000Z-req12345 --mode as-new workflows_restored --db app \(as-new is the default/);
  expect(table.confirmation(parseTable(['workflows', '--at', AT]), base)).toBeNull();
});

test('apply form: destructive, confirmation = production, counts and the mode in the facts, digest per mode in the params', () => {
  const args = parseTable(['workflows', '--from-instance', 'side1', '--mode', 'replace']);
  expect(table.risk(args)).toBe('destructive');
  expect(table.confirmation(args, base)).toBe('aiagent_prod');
  const p = plan(['workflows', '--from-instance', 'side1', '--mode', 'replace'], { comparison: comparison(), asNewExists: false });
  expect(p.steps.map((s) => [s.kind, s.destructive])).toEqual([['check-preview', false], ['replace-table', true], ['verify', false], ['remove-instance', false]]);
  expect(p.facts.Will).toBe('Make workflows equal to the side copy: delete 1, update 1, insert 9 (42 → 50 rows)');
  expect(p.facts['Referenced by']).toBe('executions (executions_workflow_id_fkey): 0 rows point at keys the side copy lacks');
  const missing = plan(['workflows', '--from-instance', 'side1', '--mode', 'missing-rows', '--keep-instance'], { comparison: comparison(), asNewExists: false });
  expect(missing.steps.map((s) => s.kind)).toEqual(['check-preview', 'copy-rows', 'verify']);
  expect((missing.params as { digest: string }).digest).toBe('f'.repeat(64));
  const asNew = plan(['workflows', '--from-instance', 'side1'], { comparison: comparison(), asNewExists: false });
  expect(asNew.steps[1]!.kind).toBe('copy-table');
  expect(asNew.facts.Will).toMatch(/^Create workflows_restored beside workflows with the side copy's 50 rows/);
});

test('refusals at planning: a replace that would orphan rows names the foreign key; an as-new name that exists', () => {
  const orphan = refusal(() => plan(['workflows', '--from-instance', 'side1', '--mode', 'replace'], { comparison: comparison(3), asNewExists: false }));
  expect(orphan.message).toMatch(/would orphan rows .*: 3 rows of executions \(foreign key executions_workflow_id_fkey\)\. Nothing was written/);
  expect(orphan.hint).toMatch(/missing-rows/);
  expect(plan(['workflows', '--from-instance', 'side1', '--mode', 'missing-rows'], { comparison: comparison(3), asNewExists: false }).risk).toBe('destructive');
  expect(refusal(() => plan(['workflows', '--at', AT], { selection, instancesInUse: [], asNewExists: true })).message).toMatch(/workflows_restored already exists/);
});

test('the digest binds what the mode depends on', () => {
  const c = comparison();
  expect(modeDigest({ kind: 'as-new', name: 'a' }, c)).not.toBe(modeDigest({ kind: 'as-new', name: 'b' }, c));
  expect(modeDigest({ kind: 'as-new', name: 'a' }, { ...c, productionRows: 99 })).toBe(modeDigest({ kind: 'as-new', name: 'a' }, c));
  expect(modeDigest({ kind: 'replace' }, { ...c, productionRows: 99 })).not.toBe(modeDigest({ kind: 'replace' }, c));
  expect(modeDigest({ kind: 'replace' }, comparison(1))).not.toBe(modeDigest({ kind: 'replace' }, c));
});

const info = (columns: string[], key: string[]): TableInfo => ({ oid: '1', schema: 'app', name: 'we"ird', primaryKey: key, columns: columns.map((name) => ({ name, type: 'integer', category: 'N', identity: '', generated: name === 'g' ? 's' : '', sequence: null })) });

test('pure SQL: quoted names, generated columns never written, no update when only key columns, own sequences', () => {
  expect(everyRowFilter(info(['my"id'], ['my"id']))).toBe('"my""id" is not null');
  const sql = replaceSql(info(['id', 'v', 'g'], ['id']));
  expect(sql.update).toBe(`UPDATE "app"."we""ird" AS t SET "v" = r."v" FROM pg_temp."recover_restored" r WHERE t."id" = r."id" AND md5(t::text) <> md5(r::text)`);
  expect(sql.insert).toMatch(/^INSERT INTO "app"\."we""ird" \("id", "v"\) OVERRIDING SYSTEM VALUE SELECT r\."id", r\."v" FROM/);
  expect(replaceSql(info(['a', 'b'], ['a', 'b'])).update).toBeNull();
  expect(ownSequenceSql('app', 'copy', 'id')).toEqual([
    'CREATE SEQUENCE "app"."copy_id_seq" OWNED BY "app"."copy"."id"',
    `ALTER TABLE "app"."copy" ALTER COLUMN "id" SET DEFAULT nextval('"app"."copy_id_seq"'::regclass)`,
  ]);
});

test('a table production no longer has: missing-rows and replace refused offering as-new (before restoring, and from the side copy); as-new creates it from the side definition', () => {
  const dropped = { ...comparison(), basis: 'dropped' as const, productionRows: 0, missing: 50, present: 0, different: 0, onlyInProduction: 0, references: [], outgoing: [{ constraint: 'workflows_owner_fkey', references: 'owners', unmatched: 2 }, { constraint: 'workflows_team_fkey', references: 'teams', unmatched: 0 }] };
  const early = refusal(() => plan(['workflows', '--at', AT, '--mode', 'missing-rows'], { live: { exists: false, keyed: false }, selection, instancesInUse: [], asNewExists: false }));
  expect(early.message).toMatch(/^Production has no table workflows \(dropped\?\): --mode missing-rows writes into the live table.*Nothing was restored\.$/);
  expect(early.hint).toContain(`recover table workflows --at 2025-01-15T14:29:59Z --mode as-new workflows --db app`);
  const late = refusal(() => plan(['workflows', '--from-instance', 'side1', '--mode', 'replace'], { comparison: dropped, asNewExists: false }));
  expect(late.hint).toContain('recover table workflows --from-instance side1 --mode as-new workflows --db app');
  const restore = plan(['workflows', '--at', AT], { live: { exists: false, keyed: false }, selection, instancesInUse: [], asNewExists: false });
  expect(restore.facts.Table).toMatch(/production has no such table now \(dropped\?\); only --mode as-new/);
  expect(restore.facts.Then).toMatch(/--mode as-new workflows_restored --db app \(or --mode as-new workflows: its own name, nothing there to overwrite\)$/);
  const own = plan(['workflows', '--from-instance', 'side1', '--mode', 'as-new', 'workflows'], { comparison: dropped, asNewExists: false });
  expect(own.facts.Will).toMatch(/^Create workflows from the side copy's own definition \(pg_dump --schema-only/);
  expect(own.facts['Foreign keys']).toBe('workflows_owner_fkey → owners: 2 rows point at keys production lacks (not re-created; listed); workflows_team_fkey → teams: every row has its match in production (re-created)');
  // The live name is refused while the table exists: as-new never overwrites.
  expect(refusal(() => plan(['workflows', '--from-instance', 'side1', '--mode', 'as-new', 'workflows'], { comparison: comparison(), asNewExists: true })).message).toMatch(/as-new never overwrites a table, and this is the live one/);
  // A dropped table's as-new is bound to being created from the side definition.
  expect(modeDigest({ kind: 'as-new', name: 'w' }, dropped)).not.toBe(modeDigest({ kind: 'as-new', name: 'w' }, { ...dropped, basis: 'by-key' }));
});

test('a table without a primary key: as-new allowed, missing-rows and replace refused; --db defaults to the database chosen at planning', () => {
  const noKey = { ...comparison(), basis: 'no-key' as const, primaryKey: [], missing: 0, present: 0, different: 0, onlyInProduction: 0, references: [] };
  expect(refusal(() => plan(['workflows', '--at', AT, '--mode', 'replace'], { live: { exists: true, keyed: false }, selection, instancesInUse: [], asNewExists: false })).message).toMatch(/workflows has no primary key, so missing rows cannot be told from present ones: --mode replace needs one/);
  expect(refusal(() => plan(['workflows', '--from-instance', 'side1', '--mode', 'missing-rows'], { comparison: noKey, asNewExists: false })).hint).toMatch(/--mode as-new copies every row/);
  const asNew = plan(['workflows', '--from-instance', 'side1'], { comparison: noKey, asNewExists: false }, 'shop');
  expect(asNew.facts['Compared by primary key']).toMatch(/^not compared: the table has no primary key/);
  expect(asNew.params).toMatchObject({ database: 'shop' });
  expect(asNew.summary).toMatch(/\(database shop\)$/);
});

test('pure builders of a dropped table: foreign keys left out of the dump, psql meta-commands, foreign keys NOT VALID', () => {
  const list = ';\n; Archive\n216; 1259 16390 TABLE public customers postgres\n3363; 0 0 ACL public TABLE customers postgres\n3209; 2606 16400 CONSTRAINT public customers customers_pkey postgres\n3212; 2606 16403 FK CONSTRAINT public customers customers_parent_fkey postgres\n';
  expect(entriesWithoutForeignKeys(list, { schema: 'public', name: 'customers' })).toBe('216; 1259 16390 TABLE public customers postgres\n3363; 0 0 ACL public TABLE customers postgres\n3209; 2606 16400 CONSTRAINT public customers customers_pkey postgres\n');
  expect(refusal(() => entriesWithoutForeignKeys(list, { schema: 'public', name: 'orders' })).message).toMatch(/could not be dumped as one table/);
  expect(dumpSql('\\restrict abc\nCREATE TABLE t ();\n\\unrestrict abc\n')).toBe('CREATE TABLE t ();\n');
  expect(refusal(() => dumpSql('\\connect other\n')).message).toMatch(/psql commands/);
  const key = { constraint: 'c"k', references: { schema: 'public', name: 'parents' }, columns: ['parent'], referencedColumns: ['id'], onUpdate: 'a', onDelete: 'c', match: 's', deferrable: true, deferred: false, validated: true, self: false };
  expect(addForeignKeySql({ schema: 'app', name: 'customers' }, key)).toBe('ALTER TABLE "app"."customers" ADD CONSTRAINT "c""k" FOREIGN KEY ("parent") REFERENCES "public"."parents" ("id") MATCH SIMPLE ON UPDATE NO ACTION ON DELETE CASCADE DEFERRABLE INITIALLY IMMEDIATE NOT VALID');
  expect(tableDefinitionDumpArgs('/pg', { host: '/run', port: 5, user: 'postgres', dbname: 'shop' }, { schema: 'public', name: 'customers' }, '/d/t.dump')[1]).toEqual(['--host', '/run', '--port', '5', '--username', 'postgres', '--dbname', 'shop', '--format', 'custom', '--schema-only', '--table', '"public"."customers"', '--file', '/d/t.dump', '--no-password']);
});
