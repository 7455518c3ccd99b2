import { readFile } from 'node:fs/promises';

/** uid/gid of an OS user from /etc/passwd (pure parse + one read). */
export function parsePasswd(text: string, user: string): { uid: number; gid: number } | null {
  for (const line of text.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === user && uid && gid) return { uid: Number(uid), gid: Number(gid) };
  }
  return null;
}

export async function osUserIds(user: string): Promise<{ uid: number; gid: number }> {
  const ids = parsePasswd(await readFile('/etc/passwd', 'utf8'), user);
  if (!ids) throw new Error(`OS user ${user} does not exist on this host`);
  return ids;
}

/** The owner to give files PostgreSQL must read, or undefined when we already are that user. */
export async function ownerFor(user: string): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  return osUserIds(user);
}
