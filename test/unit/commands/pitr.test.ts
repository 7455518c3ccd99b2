/**
 * The pitr command definition that both Slack (`/recover pitr …`) and the CLI (`recover pitr …`)
 * parse through: exact time targets, hostile words, instance names, ports, and unique names.
 */
import { describe, expect, it } from 'vitest';
import { parsePitrCli, pitr, sideInstanceName, targetFromArgs, INSTANCE_NAME, type PitrArgs, type PitrFacts } from '../../../commands/pitr.js';
import type { PlanFacts } from '../../../commands/types.js';
import { planDigest } from '../../../src/control/digest.js';
import { exitCodeFor, RecoverError } from '../../../src/errors.js';
import { refusal } from '../../support/refusal.js';
import { linearCatalog } from '../catalog/catalog-fixtures.js';

const slack = (text: string[]) => pitr.parse(text);
const NOW = new Date('2025-01-15T10:20:30.456Z');
const facts = (extra: Partial<PlanFacts & PitrFacts> = {}): PlanFacts => ({
  catalog: linearCatalog(),
  now: NOW,
  production: { name: 'aiagent_prod' },
  requestId: '3f2a9c1e-0000-4000-8000-000000000001',
  instancesInUse: [],
  ...extra,
});
const TARGET = ['2025-01-15T10:20:30.120555+00'];

describe('time targets keep their microseconds (issue 6 item 1)', () => {
  it('from the words to the stored args, the plan, its digest and back', () => {
    const args = slack(TARGET);
    expect(args.target).toEqual({ kind: 'time', time: '2025-01-15T10:20:30.120555Z' });
    const plan = pitr.plan!(args, facts());
    expect(plan.facts.Target).toBe('time 2025-01-15T10:20:30.120555Z');
    expect(plan.summary).toContain('2025-01-15T10:20:30.120555Z');
    expect(plan.steps.find((step) => step.kind === 'configure-recovery')?.title).toContain('10:20:30.120555Z');
    expect((plan.params as { target: unknown }).target).toEqual({ kind: 'time', time: '2025-01-15T10:20:30.120555Z' });
    // What the runner executes is the same exact time, not a millisecond Date.
    const target = targetFromArgs((plan.params as PitrArgs).target);
    expect(target).toMatchObject({ kind: 'time', raw: '2025-01-15T10:20:30.120555Z' });
    // Two targets a microsecond apart are two different plans to approve.
    const other = pitr.plan!(slack(['2025-01-15T10:20:30.120556+00']), facts());
    expect(planDigest(other, 'r1')).not.toBe(planDigest(plan, 'r1'));
  });

  it('keeps a non-UTC offset and shows the UTC instant too', () => {
    const args = slack(['2025-01-15', '11:20:30.000001+01']);
    expect(args.target).toEqual({ kind: 'time', time: '2025-01-15T11:20:30.000001+01:00' });
    expect(pitr.plan!(args, facts()).facts.Target).toBe('time 2025-01-15T11:20:30.000001+01:00 (2025-01-15T10:20:30.000001Z)');
  });

  it('stored args with more than 6 fractional digits or no offset are refused by the schema', () => {
    for (const time of ['2025-01-15T10:20:30.1234567Z', '2025-01-15T10:20:30', 'yesterday']) {
      expect(pitr.schema.safeParse({ target: { kind: 'time', time }, inclusive: true, action: 'promote', to: 'side' }).success).toBe(false);
    }
  });
});

describe('one set of rules for Slack and the CLI (issue 6 item 13)', () => {
  it.each([
    [["--db", "x'; DROP TABLE users; --"]],
    [['--db', 'x', "y'; DROP"]],
    [['--db']],
    [['--db=']],
    [['--db', 'a,,b']],
    [['--db', '$(reboot)']],
    [['--backup', '../x']],
  ])('hostile or empty --db/--backup %j is bad input', (words) => {
    for (const parse of [slack, (w: string[]) => parsePitrCli(w)]) {
      const error = refusal(() => parse([...TARGET, ...words]));
      expect(error.code).toBe('BAD_INPUT');
      expect(exitCodeFor(error.code)).toBe(2);
    }
  });

  it.each([
    [['--db', 'a', '--db', 'b'], ['a', 'b']],
    [['--db', 'a,b'], ['a', 'b']],
    [['--db=a,b'], ['a', 'b']],
    [['--db', 'a', 'b'], ['a', 'b']],
    [['--db', 'aiagent_prod'], ['aiagent_prod']],
  ])('%j verifies %j', (words, databases) => {
    expect(slack([...TARGET, ...words]).db).toEqual(databases);
    // The time may come after the names: a word starting with a digit ends the list.
    expect(slack([...words, ...TARGET]).db).toEqual(databases);
    expect(pitr.plan!(slack([...TARGET, ...words]), facts()).params).toMatchObject({ databases });
  });

  it('a request stored with one --db string still plans', () => {
    const parsed = pitr.schema.parse({ target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'side', db: 'aiagent_prod' });
    expect(parsed.db).toEqual(['aiagent_prod']);
  });

  it.each(['.', '..', '.hidden', '..x', 'a/b', '../prod', '/tmp/x', 'a.b', '-x', '_x', 'x y', 'x'.repeat(64), '', 'dépôt', 'x\n'])(
    '--instance %j is refused in both',
    (name) => {
      for (const parse of [slack, (w: string[]) => parsePitrCli(w)]) {
        const error = refusal(() => parse([...TARGET, '--instance', name]));
        expect(error.code).toBe('BAD_INPUT');
      }
      expect(pitr.schema.safeParse({ target: { kind: 'latest' }, inclusive: true, action: 'promote', to: 'side', instance: name }).success).toBe(false);
    },
  );

  it.each(['side-1', 'A_b', '0', 'x'.repeat(63)])('--instance %j is accepted', (name) => {
    expect(slack([...TARGET, '--instance', name]).instance).toBe(name);
    expect(INSTANCE_NAME.test(name)).toBe(true);
  });

  it.each(['0', 'abc', '99999', '-1', '1023', '65536', '1e4', '0x1F90', ' 5433', '5433.5', '', '+5433'])('--port %j is bad input', (port) => {
    const error = refusal(() => parsePitrCli([...TARGET, `--port=${port}`]));
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toContain('--port');
  });

  it('--port with no value, or twice, is bad input', () => {
    expect(refusal(() => parsePitrCli([...TARGET, '--port'])).message).toContain('--port needs a value');
    expect(refusal(() => parsePitrCli([...TARGET, '--port', '5433', '--port', '5434'])).message).toContain('more than once');
  });

  it('the CLI takes --port, --json and --dry-run; Slack refuses them as CLI-only', () => {
    expect(parsePitrCli([...TARGET, '--port', '5433', '--json', '--dry-run'])).toMatchObject({ port: 5433, json: true, dryRun: true });
    for (const flag of ['--port=5433', '--json', '--dry-run']) {
      const error = refusal(() => slack([...TARGET, flag]));
      expect(error.code).toBe('BAD_INPUT');
      expect(error.message).toContain('only the recover CLI');
    }
  });

  it('--instance and --port do not go with --to in-place', () => {
    expect(refusal(() => parsePitrCli([...TARGET, '--to', 'in-place', '--instance', 'x'])).code).toBe('BAD_INPUT');
    expect(refusal(() => parsePitrCli([...TARGET, '--to', 'in-place', '--port', '5433'])).code).toBe('BAD_INPUT');
  });

  it('the same words give the same arguments in Slack and in the CLI', () => {
    const words = ['--xid', '73519', '--exclusive', '--action', 'pause', '--db', 'a', 'b', '--backup', '20250115T100000Z', '--instance', 'side-1'];
    const { port: _port, json: _json, dryRun: _dryRun, ...cli } = parsePitrCli(words);
    expect(cli).toEqual(slack(words));
  });
});

describe('side instance names are unique (issue 6 item 5)', () => {
  it('two requests in the same second get different names, each a valid instance name', () => {
    const a = pitr.plan!(slack(TARGET), facts({ requestId: '3f2a9c1e-aaaa-4000-8000-000000000001' }));
    const b = pitr.plan!(slack(TARGET), facts({ requestId: '7b01d4e2-bbbb-4000-8000-000000000002' }));
    const nameA = (a.params as { instanceName: string }).instanceName;
    const nameB = (b.params as { instanceName: string }).instanceName;
    expect(nameA).toBe('pitr-20250115T102030Z-3f2a9c1e');
    expect(nameB).toBe('pitr-20250115T102030Z-7b01d4e2');
    expect(INSTANCE_NAME.test(nameA) && INSTANCE_NAME.test(nameB)).toBe(true);
    expect(a.facts['Restores to']).toBe(`new side instance ${nameA}`);
  });

  it('sideInstanceName keeps only letters and digits of the id', () => {
    expect(sideInstanceName(NOW, '../..//AbC-12')).toBe('pitr-20250115T102030Z-abc12');
  });

  it('a name already under the restore root is refused at planning (exit 3)', () => {
    const generated = refusal(() => pitr.plan!(slack(TARGET), facts({ instancesInUse: ['pitr-20250115T102030Z-3f2a9c1e'] })));
    expect(generated.code).toBe('INSTANCE_EXISTS');
    expect(exitCodeFor(generated.code)).toBe(3);
    const chosen = refusal(() => pitr.plan!(slack([...TARGET, '--instance', 'side-1']), facts({ instancesInUse: ['side-1'] })));
    expect(chosen.code).toBe('INSTANCE_EXISTS');
    expect(chosen.message).toContain('side-1');
    expect(chosen.hint).toContain('--instance');
    // A name that is free is used as given.
    expect(pitr.plan!(slack([...TARGET, '--instance', 'side-2']), facts({ instancesInUse: ['side-1'] })).params).toMatchObject({ instanceName: 'side-2' });
  });

  it('in place, names under the restore root do not matter', () => {
    const plan = pitr.plan!(slack([...TARGET, '--to', 'in-place']), facts({ instancesInUse: ['pitr-20250115T102030Z-3f2a9c1e'] }));
    expect(plan.params).toMatchObject({ instanceName: null, to: 'in-place' });
  });

  it("in place over a directory that is not production's: refused (TARGET_NOT_ALLOWED) with what to set; a side restore does not care", () => {
    const productionDirProblem = 'RECOVER_SOURCE_DATA_DIR /srv/pg/standby is not the data directory of the server on port 5432, which runs from /srv/pg/data';
    const error = refusal(() => pitr.plan!(slack([...TARGET, '--to', 'in-place']), facts({ productionDirProblem })));
    expect(error).toMatchObject({ code: 'TARGET_NOT_ALLOWED', message: expect.stringContaining('would stop and replace another server\'s data directory: RECOVER_SOURCE_DATA_DIR /srv/pg/standby'), hint: expect.stringContaining('SHOW data_directory') });
    expect(pitr.plan!(slack([...TARGET]), facts({ productionDirProblem })).params).toMatchObject({ to: 'side' });
  });
});

describe('exit codes (issue 6 item 14)', () => {
  it.each([
    ['BAD_INPUT', 2],
    ['TARGET_NO_ZONE', 2],
    ['TARGET_CONFLICT', 2],
    ['CONFIG_INVALID', 2],
    ['TARGET_OUTSIDE_WINDOW', 3],
    ['WAL_GAP', 3],
    ['NO_BASE_BACKUP', 3],
    ['INSTANCE_EXISTS', 3],
    ['PORT_IN_USE', 3],
    ['VERIFY_FAILED', 1],
    ['RECOVERY_FAILED', 1],
    ['RESTORE_FAILED', 1],
    ['STORAGE_UNREACHABLE', 1],
    ['INTERNAL', 1],
  ] as const)('%s → %i', (code, exit) => {
    expect(exitCodeFor(new RecoverError(code, 'x').code)).toBe(exit);
  });
});
