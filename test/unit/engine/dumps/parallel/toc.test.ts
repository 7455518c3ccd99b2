import { describe, expect, test } from 'vitest';
import { effectiveSections, readToc, SECTION } from '../../../../../src/engine/dumps/parallel/toc.js';
import { writeToc, type WrittenEntry } from '../../../../support/toc-writer.js';

const entries: WrittenEntry[] = [
  { dumpId: 3392, desc: 'ENCODING', section: SECTION.preData, defn: "SET client_encoding = 'UTF8';\n" },
  { dumpId: 215, desc: 'TABLE', tag: 'customers', namespace: 'public', owner: 'app', section: SECTION.preData, defn: 'CREATE TABLE public.customers (id integer NOT NULL);\n' },
  { dumpId: 3396, desc: 'COMMENT', tag: 'TABLE customers', namespace: 'public', section: SECTION.none, deps: [215], defn: "COMMENT ON TABLE public.customers IS 'x';\n" },
  { dumpId: 3381, desc: 'TABLE DATA', tag: 'customers', namespace: 'public', section: SECTION.data, deps: [215], hadDumper: true, copyStmt: 'COPY public.customers (id) FROM stdin;\n', filename: '3381.dat' },
  { dumpId: 3221, desc: 'CONSTRAINT', tag: 'customers customers_pkey', namespace: 'public', tablespace: '', section: SECTION.postData, deps: [215], defn: 'ALTER TABLE ONLY public.customers\n    ADD CONSTRAINT customers_pkey PRIMARY KEY (id);\n' },
  { dumpId: 3400, desc: 'COMMENT', tag: 'INDEX customers_pkey', section: SECTION.none, deps: [3221] },
];

describe('readToc', () => {
  test('reads every field the loader uses, in archive order', () => {
    const read = readToc(writeToc(entries, { compression: -1, database: 'shop' }));
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.toc).toMatchObject({ version: '1.14.0', compression: -1, database: 'shop' });
    expect(read.toc.entries.map((entry) => entry.dumpId)).toEqual([3392, 215, 3396, 3381, 3221, 3400]);
    expect(read.toc.entries[3]).toEqual({ dumpId: 3381, hadDumper: true, tag: 'customers', desc: 'TABLE DATA', section: SECTION.data, defn: '', copyStmt: 'COPY public.customers (id) FROM stdin;\n', namespace: 'public', tablespace: null, owner: null, deps: [215], filename: '3381.dat' });
    expect(read.toc.entries[4]).toMatchObject({ tablespace: '', deps: [215], defn: expect.stringContaining('PRIMARY KEY (id)') });
  });

  test('version 1.13 (pg_dump 11: no table access method field) reads the same entries', () => {
    const read = readToc(writeToc(entries, { minor: 13 }));
    expect(read.ok && read.toc.entries.map((entry) => [entry.dumpId, entry.filename])).toEqual(entries.map((entry) => [entry.dumpId, entry.filename ?? '']));
  });

  test.each([
    ['another archive version', writeToc(entries, { minor: 15 }), /archive version 1\.15\.0/],
    ['an older one', writeToc(entries, { minor: 12 }), /archive version 1\.12\.0/],
    ['a custom-format file', writeToc(entries, { format: 1 }), /custom-format/],
    ['not an archive', Buffer.from('-- PostgreSQL database dump\n'), /no PGDMP header/],
    ['a cut-off file', writeToc(entries).subarray(0, 300), /ends early/],
    ['an entry dumped WITH OIDS', writeToc([{ ...entries[1]!, withOids: true }]), /WITH OIDS/],
    ['a damaged dump id', writeToc([{ ...entries[1]!, dumpId: -4 }]), /dump id -4/],
  ])('%s is unsupported with the reason, never a throw', (_name, buffer, reason) => {
    const read = readToc(buffer);
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.unsupported).toMatch(reason);
  });
});

test('an entry without a section of its own is restored with the sectioned entry before it, as pg_restore --section decides', () => {
  const read = readToc(writeToc(entries));
  if (!read.ok) throw new Error(read.unsupported);
  expect([...effectiveSections(read.toc.entries)]).toEqual([
    [3392, SECTION.preData], [215, SECTION.preData], [3396, SECTION.preData], [3381, SECTION.data], [3221, SECTION.postData], [3400, SECTION.postData],
  ]);
});
