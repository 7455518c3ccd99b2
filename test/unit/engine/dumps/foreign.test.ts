/** A foreign pg_dump -Fc file: its path, its listing's header and owners, the check its copy gets (pure). */
import { expect, test } from 'vitest';
import { FOREIGN_DUMP_PATH, foreignCheck, listingOwners, parseListingHeader } from '../../../../src/engine/dumps/foreign.js';

const LISTING = `;
; Archive created at 2026-12-07 02:09:01 UTC
;     dbname: app
;     Format: CUSTOM
;     Dumped from database version: 15.20 (Debian 15.20-0+deb12u1)
;
; Selected TOC Entries:
;
215; 1259 16390 TABLE public customers app_owner
216; 1259 16391 SEQUENCE public customers_id_seq app_owner
3345; 0 16390 TABLE DATA public customers app_owner
3346; 0 16400 TABLE DATA public orders postgres
3350; 2606 16420 CONSTRAINT public orders orders_pkey postgres
3360; 0 0 BLOBS - BLOBS 
3361; 2613 16500 BLOB - 16500 app_reader
`;

test.each([
  ['legacy/app.dump', true],
  ['app-2025-01-15.dump', true],
  ['a/b/c_d.dump', true],
  ['../etc/passwd.dump', false],
  ['legacy/../x.dump', false],
  ['/abs/app.dump', false],
  ['app.sql', false],
  ['20250115142959', false],
])('%s is a foreign dump path: %s', (path, ok) => {
  expect(FOREIGN_DUMP_PATH.test(path)).toBe(ok);
});

test('the header and the owners of a listing', () => {
  expect(parseListingHeader(LISTING)).toEqual({ dbname: 'app', format: 'CUSTOM', serverVersion: '15.20 (Debian 15.20-0+deb12u1)' });
  expect(listingOwners(LISTING)).toEqual(['app_owner', 'app_reader', 'postgres']);
  expect(parseListingHeader('garbage')).toEqual({ dbname: null, format: null, serverVersion: null });
});

test('the copy of a foreign dump: every table with data present, and what was not verified said', () => {
  expect(foreignCheck(['customers', 'orders'], new Map([['customers', 3], ['orders', 4]]))).toMatchObject({ ok: true, message: expect.stringContaining('(7 rows); not verified: no manifest') });
  expect(foreignCheck(['customers', 'orders'], new Map([['customers', 3]]))).toMatchObject({ ok: false, message: expect.stringContaining(': orders') });
});
