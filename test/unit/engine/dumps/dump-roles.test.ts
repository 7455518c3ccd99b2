/** The roles a dump names: grantees of its ACL entries, its ACL listing, the missing ones (pure). */
import { expect, test } from 'vitest';
import { aclListing, granteesOf, missingRoles, rolesMissingError } from '../../../../src/engine/dumps/dump-roles.js';

test.each([
  ['GRANT SELECT ON TABLE public.orders TO app_reader;', ['app_reader']],
  ['GRANT SELECT,INSERT ON TABLE public.t TO "we""ird", app_writer WITH GRANT OPTION;', ['app_writer', 'we"ird']],
  ['GRANT ALL ON SCHEMA public TO PUBLIC;', []],
  ['ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA public GRANT SELECT ON TABLES TO app_reader;', ['app_reader']],
  ['REVOKE ALL ON TABLE public.t FROM app_old;', []],
  ['-- GRANT SELECT ON t TO nobody;', []],
])('%s', (sql, roles) => {
  expect(granteesOf(sql)).toEqual(roles);
});

test('the ACL entries of a listing, for pg_restore -L', () => {
  const listing = ['; Archive created at …', '214; 1259 16390 TABLE public t postgres', '3356; 0 0 ACL public TABLE t postgres', '3360; 826 16400 DEFAULT ACL public DEFAULT PRIVILEGES FOR TABLES app_owner', '3344; 0 16390 TABLE DATA public t postgres'].join('\n');
  expect(aclListing(listing)).toBe('3356; 0 0 ACL public TABLE t postgres\n3360; 826 16400 DEFAULT ACL public DEFAULT PRIVILEGES FOR TABLES app_owner');
});

test('missing roles, listed once and sorted; the refusal says both ways on', () => {
  expect(missingRoles(['b', 'a', 'b', 'postgres'], ['postgres'])).toEqual(['a', 'b']);
  const error = rolesMissingError(['a', 'b'], 'the rebuilt primary', '/recover failback app --no-owner');
  expect([error.code, error.message]).toEqual(['ROLES_MISSING', 'The dump names roles the rebuilt primary does not have: a, b (owners or grantees of its objects). Nothing was created.']);
  expect(error.hint).toContain('/recover failback app --no-owner');
});
