import { describe, expect, test } from 'vitest';
import { copyTarget, keyElements, loadPlan, splitKey, SPLIT_MIN_BYTES, unsupportedArchive } from '../../../../../src/engine/dumps/parallel/plan.js';
import { readToc, SECTION, type Toc } from '../../../../../src/engine/dumps/parallel/toc.js';
import { writeToc, type WrittenEntry } from '../../../../support/toc-writer.js';

const table = (dumpId: number, name: string): WrittenEntry => ({ dumpId, desc: 'TABLE', tag: name, namespace: 'public', section: SECTION.preData, defn: `CREATE TABLE public.${name} ();\n` });
const data = (dumpId: number, tableId: number, name: string): WrittenEntry => ({ dumpId, desc: 'TABLE DATA', tag: name, namespace: 'public', section: SECTION.data, deps: [tableId], hadDumper: true, copyStmt: `COPY public.${name} (id) FROM stdin;\n`, filename: `${dumpId}.dat` });
const post = (dumpId: number, desc: string, tag: string, defn: string, deps: number[]): WrittenEntry => ({ dumpId, desc, tag, namespace: 'public', tablespace: '', section: SECTION.postData, defn, deps });

const ENTRIES: WrittenEntry[] = [
  { dumpId: 1, desc: 'ENCODING', section: SECTION.preData, defn: "SET client_encoding = 'UTF8';\n" },
  { dumpId: 2, desc: 'STDSTRINGS', section: SECTION.preData, defn: "SET standard_conforming_strings = 'on';\n" },
  table(10, 'customers'),
  table(11, 'events'),
  table(12, 'audit'),
  { dumpId: 13, desc: 'SEQUENCE', tag: 'n', namespace: 'public', section: SECTION.preData, defn: 'CREATE SEQUENCE public.n;\n' },
  data(20, 10, 'customers'),
  data(21, 11, 'events'),
  // rows written as INSERTs (pg_dump --inserts): no COPY statement, pg_restore's.
  { dumpId: 22, desc: 'TABLE DATA', tag: 'audit', namespace: 'public', section: SECTION.data, deps: [12], hadDumper: true, copyStmt: '', filename: '22.dat' },
  { dumpId: 23, desc: 'SEQUENCE SET', tag: 'n', namespace: 'public', section: SECTION.data, deps: [13], defn: "SELECT pg_catalog.setval('public.n', 5, true);\n" },
  post(30, 'CONSTRAINT', 'customers customers_pkey', 'ALTER TABLE ONLY public.customers\n    ADD CONSTRAINT customers_pkey PRIMARY KEY (id);\n', [10]),
  post(31, 'INDEX', 'events_kind_created', 'CREATE INDEX events_kind_created ON public.events USING btree (kind, created);\n', [11]),
  post(32, 'INDEX', 'events_created', 'CREATE INDEX events_created ON public.events USING btree (created);\n', [11]),
  post(33, 'FK CONSTRAINT', 'events events_customer_fkey', 'ALTER TABLE ONLY public.events\n    ADD CONSTRAINT events_customer_fkey FOREIGN KEY (customer_id) REFERENCES public.customers(id);\n', [30, 10, 11]),
  post(34, 'INDEX', 'audit_at', 'CREATE INDEX audit_at ON public.audit USING btree (at);\n', [12]),
  post(35, 'TRIGGER', 'events stamp', 'CREATE TRIGGER stamp BEFORE INSERT ON public.events FOR EACH ROW EXECUTE FUNCTION public.stamp();\n', [11]),
  { dumpId: 36, desc: 'COMMENT', tag: 'INDEX events_created', namespace: 'public', section: SECTION.none, deps: [32], defn: "COMMENT ON INDEX public.events_created IS 'x';\n" },
  // depends on an entry pg_restore restores (the trigger): goes there too.
  post(37, 'INDEX', 'after_trigger', 'CREATE INDEX after_trigger ON public.events USING btree (id);\n', [11, 35]),
];
const toc = (): Toc => {
  const read = readToc(writeToc(ENTRIES));
  if (!read.ok) throw new Error(read.unsupported);
  return read.toc;
};
const files = new Map([['20.dat.gz', 5_000_000], ['21.dat.gz', 400_000_000], ['22.dat.gz', 100]]);

describe('loadPlan', () => {
  const plan = loadPlan(toc(), files, { lanes: 2, split: true, splitKeys: true });

  test('rows with a COPY statement and a data file are the loader\'s; INSERT-style rows, sequence values, triggers, comments are pg_restore\'s, and so is what depends on them', () => {
    expect(plan.copies.map((copy) => [copy.dumpId, copy.table, copy.file, copy.gzip, copy.bytes])).toEqual([[20, 10, '20.dat.gz', true, 5_000_000], [21, 11, '21.dat.gz', true, 400_000_000]]);
    expect(plan.rest).toEqual([22, 23, 34, 35, 36, 37]);
    expect(plan.setup).toEqual(["SET client_encoding = 'UTF8';", "SET standard_conforming_strings = 'on';"]);
  });

  test('statements wait for their tables\' rows and for the statements they depend on; only CREATE INDEX shares its table', () => {
    const byId = new Map(plan.statements.map((statement) => [statement.dumpId, statement]));
    expect(byId.get(31)).toMatchObject({ tables: [11], exclusive: false, waitFor: [21], weight: 400_000_000, cost: 2 });
    expect(byId.get(32)).toMatchObject({ tables: [11], exclusive: false, waitFor: [21], cost: 1 });
    expect(byId.get(33)).toMatchObject({ tables: [10, 11], exclusive: true, waitFor: expect.arrayContaining([30, 20, 21]), weight: 400_000_000 });
  });

  test('a plain primary key becomes its unique index (shared lock) and then the constraint made from it', () => {
    const halves = plan.statements.filter((statement) => Math.abs(statement.dumpId) === 30);
    expect(halves).toEqual([
      expect.objectContaining({ dumpId: -30, desc: 'INDEX', exclusive: false, waitFor: [20], defn: 'CREATE UNIQUE INDEX customers_pkey ON public.customers USING btree (id);', keyPart: { part: 'index', constraint: 30, original: ENTRIES[10]!.defn }, table: { schema: 'public', name: 'customers' } }),
      expect.objectContaining({ dumpId: 30, desc: 'CONSTRAINT', exclusive: true, waitFor: [-30], defn: 'ALTER TABLE ONLY public.customers ADD CONSTRAINT customers_pkey PRIMARY KEY USING INDEX customers_pkey;', keyPart: { part: 'constraint', constraint: 30, original: ENTRIES[10]!.defn } }),
    ]);
    expect(loadPlan(toc(), files, { lanes: 2, split: true, splitKeys: false }).statements.find((statement) => statement.dumpId === 30)).toMatchObject({ defn: ENTRIES[10]!.defn, exclusive: true });
  });

  test('a table with more than one lane\'s share of the rows (and at least 64 MB) is split between the lanes; not with one lane or the lever off', () => {
    expect(plan.copies.map((copy) => copy.split)).toEqual([false, true]);
    expect(loadPlan(toc(), files, { lanes: 1, split: true, splitKeys: true }).copies.some((copy) => copy.split)).toBe(false);
    expect(loadPlan(toc(), files, { lanes: 2, split: false, splitKeys: true }).copies.some((copy) => copy.split)).toBe(false);
    const small = new Map([['20.dat.gz', 1000], ['21.dat.gz', SPLIT_MIN_BYTES - 1]]);
    expect(loadPlan(toc(), small, { lanes: 2, split: true, splitKeys: true }).copies.some((copy) => copy.split)).toBe(false);
  });

  test('rows whose data file is missing are pg_restore\'s (which then says what is wrong), and so are their indexes', () => {
    const without = loadPlan(toc(), new Map([['20.dat.gz', 10]]), { lanes: 2, split: true, splitKeys: true });
    expect(without.copies.map((copy) => copy.dumpId)).toEqual([20]);
    expect(without.rest).toEqual(expect.arrayContaining([21, 31, 32, 33]));
  });
});

test.each([
  ['ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n', { index: 'CREATE UNIQUE INDEX t_pkey ON public.t USING btree (id);', constraint: 'ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey;' }],
  ['ALTER TABLE ONLY "My ""S""".t\n    ADD CONSTRAINT "u k" UNIQUE (a, "B");\n', { index: 'CREATE UNIQUE INDEX "u k" ON "My ""S""".t USING btree (a, "B");', constraint: 'ALTER TABLE ONLY "My ""S""".t ADD CONSTRAINT "u k" UNIQUE USING INDEX "u k";' }],
  ['ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id) INCLUDE (v);\n', null],
  ['ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id) WITH (fillfactor=50);\n', null],
  ['ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_u UNIQUE (id) DEFERRABLE;\n', null],
  ['ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_u UNIQUE NULLS NOT DISTINCT (id);\n', null],
  ['ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_x EXCLUDE USING gist (r WITH &&);\n', null],
  ['ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_c CHECK ((a > 0));\n', null],
  ['ALTER TABLE public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);\n', null],
  ['ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);\nDROP TABLE x;\n', null],
])('splitKey(%j)', (defn, expected) => {
  expect(splitKey(defn)).toEqual(expected);
});

test.each([
  ['CREATE INDEX a ON public.t USING btree (id);', 1],
  ['CREATE INDEX a ON public.t USING btree (kind, created);', 2],
  ['CREATE INDEX a ON public.t USING btree (lower((name)::text), coalesce(a, b), c);', 3],
  ['ALTER TABLE ONLY public.t ADD CONSTRAINT k PRIMARY KEY (a, b);', 2],
  ['ALTER TABLE ONLY public.t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES public.u(id);', 1],
])('keyElements(%j) = %i', (defn, count) => {
  expect(keyElements(defn)).toBe(count);
});

test('an archive in another client encoding is pg_restore\'s', () => {
  const latin = readToc(writeToc([{ dumpId: 1, desc: 'ENCODING', section: SECTION.preData, defn: "SET client_encoding = 'LATIN1';\n" }]));
  expect(latin.ok && unsupportedArchive(latin.toc)).toMatch(/LATIN1/);
  expect(unsupportedArchive(toc())).toBeNull();
});

test.each([
  ['COPY public.events (id, kind) FROM stdin;', ['public', 'events']],
  ['COPY "We""ird"."Tab le" (id, "Val") FROM stdin;', ['We"ird', 'Tab le']],
  ['COPY public."order" FROM stdin;', ['public', 'order']],
  ['COPY "Sch.ema".t (a) FROM stdin;', ['Sch.ema', 't']],
  ['COPY events FROM stdin;', null],
  ['COPY public.t.x (a) FROM stdin;', null],
  ['COPY "unterminated.t FROM stdin;', null],
  ['INSERT INTO public.t VALUES (1);', null],
])('copyTarget(%j)', (statement, target) => {
  expect(copyTarget(statement)).toEqual(target);
});

test('rows loaded through the partitioned root (pg_dump --load-via-partition-root) are never emptied nor frozen as the partition', () => {
  const entries: WrittenEntry[] = [
    table(10, 'm_2024'),
    { ...data(20, 10, 'm_2024'), copyStmt: 'COPY public.m (id, at) FROM stdin;\n' },
    table(11, 'events'),
    data(21, 11, 'events'),
  ];
  const read = readToc(writeToc(entries));
  if (!read.ok) throw new Error(read.unsupported);
  const plan = loadPlan(read.toc, new Map([['20.dat.gz', 10], ['21.dat.gz', 10]]), { lanes: 2, split: false, splitKeys: true });
  expect(plan.copies.map((copy) => [copy.name, copy.ownTable])).toEqual([['m_2024', false], ['events', true]]);
});
