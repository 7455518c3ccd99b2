/** /recover dumpall <blob path>: the words, and the plan of a foreign pg_dumpall file (pure). */
import { describe, expect, test } from 'vitest';
import { dumpall } from '../../../commands/dumpall/index.js';
import { parseDumpall } from '../../../commands/dumpall/args.js';
import { planForeign, type ForeignDumpallFacts } from '../../../commands/dumpall/foreign.js';
import { readDumpall } from '../../../src/engine/dumps/dumpall-plain.js';
import { refusal } from '../../support/refusal.js';

const text = (...lines: string[]) => ['--', '-- PostgreSQL database cluster dump', '--', 'CREATE ROLE app_owner;', 'CREATE ROLE postgres;', '\\connect template1', ...lines, '\\connect postgres', ''].join('\n');
const holding = text('CREATE DATABASE app WITH TEMPLATE = template0;', '\\connect app', 'COPY public.t (id) FROM stdin;', '1', '2', '\\.', 'INSERT INTO public.u VALUES (1);');
const facts = (sql = holding, inventory: Partial<ForeignDumpallFacts['inventory']> = {}): ForeignDumpallFacts => ({
  path: 'legacy/all.sql.gz', bytes: 2_000_000, sha256: 'a'.repeat(64), dump: readDumpall(sql),
  inventory: { databases: ['postgres', 'template0', 'template1'], roles: ['postgres'], tablespaces: ['pg_default', 'pg_global'], self: 'postgres', ...inventory },
});

describe('words', () => {
  test.each([
    [['legacy/all.sql', '--to', 'side-1'], { source: 'legacy/all.sql', to: 'side-1', renameSuffix: null }],
    [['legacy/all.sql.zst', '--to', 'production', '--rename-suffix', '_r'], { source: 'legacy/all.sql.zst', renameSuffix: '_r' }],
    [['20250115142959', '--to', 'side-1'], { source: '20250115142959' }],
  ])('%j', (tokens, expected) => {
    expect(parseDumpall(tokens)).toMatchObject(expected);
  });
  test.each([[['../x.sql', '--to', 's']], [['legacy/all.dump', '--to', 's']], [['/abs.sql', '--to', 's']]])('%j refused', (tokens) => {
    expect(refusal(() => parseDumpall(tokens)).message).toMatch(/source: a dump stamp .* or the path of a pg_dumpall file/);
  });
});

describe('plan', () => {
  test('lists what the file holds, what is verified and what is not; the params carry its sha256', () => {
    const planned = planForeign(parseDumpall(['legacy/all.sql.gz', '--to', 'side-1']), facts());
    expect(planned.facts.Dump).toContain('databases app; roles app_owner, postgres');
    expect(planned.facts['Left out']).toContain('template1, postgres: empty');
    expect(planned.facts.Verified).toContain('the 1 tables loaded by COPY');
    expect(planned.facts['Not verifiable']).toContain('loaded by INSERT here: app.u');
    expect(planned.titles.globals).toContain('create roles app_owner');
    expect(planned.params).toEqual({ foreign: { path: 'legacy/all.sql.gz', sha256: 'a'.repeat(64), bytes: 2_000_000 }, databases: [{ database: 'app', files: 0 }] });
    const plan = dumpall.plan!(parseDumpall(['legacy/all.sql.gz', '--to', 'side-1']), { manifests: [], globals: { roles: [], tablespaces: [] }, inventory: facts().inventory, foreign: facts(), now: new Date(), production: { name: 'p' }, requestId: 'r' } as never);
    expect(dumpall.paramsSchema!.parse(plan.params)).toEqual(plan.params);
  });
  test.each([
    ['a database the target has', facts(holding, { databases: ['app', 'postgres'] }), 'INSTANCE_EXISTS', /already has databases app;/],
    ['a role the target has', facts(holding, { roles: ['postgres', 'app_owner'] }), 'INSTANCE_EXISTS', /roles app_owner/],
    ['a shell escape', facts(text('\\! touch /tmp/x')), 'BAD_INPUT', /line 7: \\! \(psql would run a shell command/],
    ['nothing to restore', facts(text()), 'NO_DUMP', /holds no database to restore/],
  ])('%s → refused', (_name, given, code, message) => {
    const error = refusal(() => planForeign(parseDumpall(['legacy/all.sql.gz', '--to', 'side-1']), given));
    expect([error.code, error.message]).toEqual([code, expect.stringMatching(message)]);
  });
  test('a suffix: databases renamed, existing roles kept; a name too long refused', () => {
    const planned = planForeign(parseDumpall(['legacy/all.sql.gz', '--to', 'side-1', '--rename-suffix', '_r']), facts(holding, { databases: ['app'], roles: ['postgres', 'app_owner'] }));
    expect(planned.titles.restore).toContain('app → app_r');
    expect(planned.titles.globals).toContain('keep app_owner, postgres as they are');
    const long = text(`CREATE DATABASE ${'d'.repeat(60)} WITH TEMPLATE = template0;`, `\\connect ${'d'.repeat(60)}`);
    expect(refusal(() => planForeign(parseDumpall(['legacy/all.sql.gz', '--to', 'side-1', '--rename-suffix', '_restored']), facts(long))).message).toMatch(/longer than 63 bytes/);
  });
});
