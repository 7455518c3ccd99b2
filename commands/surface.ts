/**
 * Where a text is shown decides how it names commands: `/recover pitr …` in Slack,
 * `recover pitr …` in a terminal (the words after the name are the same on both). Messages,
 * hints, plan facts and follow-ups are written once, naming commands as Slack types them; the
 * surface that shows them turns them into its own syntax with `forSurface` (the CLI does it
 * where it prints: src/cli/runtime.ts, progress.ts). Pure.
 */
export type Surface = 'slack' | 'cli';

/** The command line with these words (`pitr --latest`) as it is typed on `surface`. */
export function commandLine(surface: Surface, words: string): string {
  return `${surface === 'slack' ? '/recover' : 'recover'} ${words}`.trimEnd();
}

/**
 * `/recover` starting a word (after a space, a quote, a backtick or a bracket), not part of a
 * path or of `recover-bot`: a command as Slack types it.
 */
const SLASH_COMMAND = /(^|[\s`'"(«“‘])\/recover(?![\w/-])/g;

/** Text naming commands the Slack way, as `surface` shows it. */
export function forSurface(text: string, surface: Surface): string {
  return surface === 'slack' ? text : text.replace(SLASH_COMMAND, '$1recover');
}

/** forSurface through a result printed as JSON: every string in it (numbers, bigints and the shape untouched). */
export function valueForSurface<T>(value: T, surface: Surface): T {
  if (surface === 'slack') return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return forSurface(v, surface);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([key, item]) => [key, walk(item)]));
    }
    return v;
  };
  return walk(value) as T;
}
