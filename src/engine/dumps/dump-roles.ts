/**
 * The roles a dump names (owners of its objects, grantees of its privileges) against the roles
 * where it would be restored: pg_restore keeps owners and grants, so a missing role fails the
 * load half-way. Found at planning and refused there, listing them, unless owners and grants are
 * left out (--no-owner --no-acl, shown in the plan). For a foreign custom-format dump the roles
 * come from its table of contents: the owner of every entry (`pg_restore --list`) and the
 * grantees of its ACL entries (their GRANT statements, `pg_restore -L <ACL entries> -f -`);
 * both read from the first FOREIGN_TOC_BYTES of the blob, where pg_dump writes the table of contents.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { open, writeFile } from 'node:fs/promises';
import { RecoverError } from '../../errors.js';
import type { EngineContext } from '../context.js';
import { makeOwnedDir } from '../local-cluster.js';
import { listingOwners } from './foreign.js';
import { unquoteIdent } from './globals.js';

/** How much of a foreign dump is read at planning for its table of contents (the rows come after it). */
export const FOREIGN_TOC_BYTES = 64 * 1024 * 1024;

/** The named roles absent from `present` (pure), sorted. */
export const missingRoles = (named: readonly string[], present: readonly string[]) => [...new Set(named)].filter((role) => !present.includes(role)).sort();

/** The refusal for missing roles (pure): where, which, and the two ways on. */
export function rolesMissingError(missing: readonly string[], where: string, noOwnerCommand: string): RecoverError {
  return new RecoverError('ROLES_MISSING', `The dump names roles ${where} does not have: ${missing.join(', ')} (owners or grantees of its objects). Nothing was created.`, {
    hint: `Create them on ${where} first (pg_dumpall --globals-only of the source has their definitions), or leave owners and grants out: ${noOwnerCommand} (objects then belong to the restoring role, no grants restored).`,
  });
}

/** The ACL entries of a `pg_restore --list` listing, as a list file for `pg_restore -L` (pure). */
export const aclListing = (listing: string) => listing.split('\n').filter((line) => /^\d+;\s+\d+\s+\d+\s+(DEFAULT )?ACL\s/.test(line)).join('\n');

const ROLE = String.raw`("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;

/** The grantees of GRANT statements (pure): `… TO a, "B c" [WITH GRANT OPTION];`, PUBLIC aside. */
export function granteesOf(sql: string): string[] {
  const roles = new Set<string>();
  for (const line of sql.split('\n')) {
    const to = new RegExp(String.raw`^GRANT .* TO (${ROLE}(?:, ${ROLE})*)(?: WITH (?:GRANT|ADMIN) OPTION)?(?: GRANTED BY ${ROLE})?;$`).exec(line.replace(/^ALTER DEFAULT PRIVILEGES FOR ROLE \S+ (?:IN SCHEMA \S+ )?/, ''));
    if (!to) continue;
    for (const token of to[1]!.match(new RegExp(ROLE, 'g')) ?? []) if (token !== 'PUBLIC') roles.add(token.startsWith('"') ? unquoteIdent(token) : token);
  }
  return [...roles].sort();
}

/**
 * The roles a foreign custom-format dump names, read from the start of its blob (nothing is
 * created); null when its table of contents does not fit in what was read (then the job checks).
 */
export async function foreignDumpRoles(ctx: Pick<EngineContext, 'storage' | 'signal'>, path: string, work: string, owner: { uid: number; gid: number } | undefined, tools: { bin: string; run: (file: string, args: string[]) => Promise<{ stdout: string }> }): Promise<string[] | null> {
  await makeOwnedDir(work, owner);
  const file = join(work, 'toc.dump');
  const out = createWriteStream(file, { mode: 0o644 });
  const source = await ctx.storage.dumps.getStream(path, ctx.signal);
  let bytes = 0;
  for await (const chunk of source) {
    const part = (chunk as Buffer).subarray(0, FOREIGN_TOC_BYTES - bytes);
    bytes += part.length;
    if (!out.write(part)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    if (bytes >= FOREIGN_TOC_BYTES) break;
  }
  source.destroy();
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  const damaged = (what: string, cause?: unknown) =>
    new RecoverError('BACKUP_CORRUPT', `${path} is not a usable pg_dump custom-format file: ${what}. Nothing was created.`, { hint: 'Upload the output of pg_dump -Fc (custom format), or restore a stored dump: recover backups lists them.', cause });
  const handle = await open(file, 'r');
  const head = Buffer.alloc(5);
  await handle.read(head, 0, 5, 0).finally(() => handle.close());
  const magic = head.toString('latin1');
  if (magic !== 'PGDMP') throw damaged('it does not start with pg_dump\'s PGDMP header');
  let listing: string;
  try {
    listing = (await tools.run(join(tools.bin, 'pg_restore'), ['--list', file])).stdout;
  } catch (error) {
    if (bytes >= FOREIGN_TOC_BYTES) return null;
    throw damaged('pg_restore --list cannot read its table of contents', error);
  }
  const acl = aclListing(listing);
  let grantees: string[] = [];
  if (acl) {
    const list = join(work, 'acl.list');
    await writeFile(list, `${acl}\n`, { mode: 0o644 });
    grantees = granteesOf((await tools.run(join(tools.bin, 'pg_restore'), ['--use-list', list, '--file', '-', file])).stdout);
  }
  return [...new Set([...listingOwners(listing), ...grantees])].sort();
}
