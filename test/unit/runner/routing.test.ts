import { describe, expect, it } from 'vitest';
import { assertRunsHere, routePlan, routeRefusal } from '../../../src/runner/routing.js';
import type { Plan } from '../../../src/types.js';

const plan: Plan = { command: 'pitr', summary: 's', risk: 'destructive', steps: [], facts: { Target: 't' } };
const onHost = { host: 'db1', dataDir: '/var/lib/postgresql/15/main' };

describe('routePlan', () => {
  it('leaves a plan that runs anywhere as it is', () => {
    expect(routePlan(plan, 'anywhere', { host: 'vm', dataDir: null })).toBe(plan);
  });
  it('binds a database-host plan to the planning runner, and says so in the facts people approve', () => {
    const routed = routePlan(plan, 'database-host', onHost);
    expect(routed.runsOn).toEqual(onHost);
    expect(routed.facts['Runs on']).toBe('the runner on host db1 (data directory /var/lib/postgresql/15/main)');
    expect(routed.facts.Target).toBe('t');
  });
  it('refuses to plan it on a runner off the database host, saying where it must run', () => {
    expect(() => routePlan(plan, 'database-host', { host: 'vm', dataDir: null })).toThrow(/not set up on production's database host \(no RECOVER_SOURCE_DATA_DIR\)/);
  });
});

describe('routeRefusal', () => {
  it.each([
    [{ runsOn: undefined }, { host: 'x', dataDir: null }, null],
    [{ runsOn: onHost }, onHost, null],
    [{ runsOn: onHost }, { host: 'db2', dataDir: onHost.dataDir }, 'the plan runs on host db1, and this runner is on db2'],
    [{ runsOn: onHost }, { host: 'db1', dataDir: null }, "the plan acts on /var/lib/postgresql/15/main, and this runner's RECOVER_SOURCE_DATA_DIR is not set"],
    [{ runsOn: onHost }, { host: 'db1', dataDir: '/srv/pg' }, "the plan acts on /var/lib/postgresql/15/main, and this runner's RECOVER_SOURCE_DATA_DIR is /srv/pg"],
  ])('%j on %j → %s', (bound, reach, expected) => {
    expect(routeRefusal({ command: 'pitr', ...(bound.runsOn ? { runsOn: bound.runsOn } : {}) }, reach)).toBe(expected);
  });
  it('assertRunsHere: CONFIG_INVALID, nothing done', () => {
    expect(() => assertRunsHere({ command: 'pitr', runsOn: onHost }, { host: 'db2', dataDir: null })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('Nothing was done') }));
  });
});
