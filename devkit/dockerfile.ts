/**
 * Reads the repository's Dockerfile and .dockerignore the way `docker build` does, for what
 * can be checked without a Docker engine (none runs here): test/unit/devkit/dockerfile.test.ts
 * checks the paths, user, ports and health check, and scripts/image-layout.ts replays the build
 * stage and the final stage's copies into a directory and starts the result.
 *
 * Covers the forms this Dockerfile uses: `\` continuations, `#` comment lines, JSON (exec)
 * and shell forms, `--flag=value` options, `FROM image AS name`. .dockerignore patterns are
 * matched like Docker's (path.Match with `**`, relative to the context, `!` re-includes, the
 * last matching line wins); a directory that matches excludes everything under it.
 */

export interface Instruction {
  keyword: string;
  /** The text after the keyword, continuation lines joined with a space. */
  args: string;
  /** `--name=value` options at the start of args (COPY --from, HEALTHCHECK --interval). */
  flags: Record<string, string>;
  /** args without the flags. */
  rest: string;
  line: number;
}

export interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

function splitFlags(args: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (let match = /^--([\w-]+)=(\S+)\s*/.exec(rest); match; match = /^--([\w-]+)=(\S+)\s*/.exec(rest)) {
    flags[match[1]!] = match[2]!;
    rest = rest.slice(match[0].length);
  }
  return { flags, rest };
}

export function parseInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: { parts: string[]; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && !pending)) return;
    const continued = trimmed.endsWith('\\');
    const part = continued ? trimmed.slice(0, -1).trim() : trimmed;
    pending ??= { parts: [], line: index + 1 };
    pending.parts.push(part);
    if (continued) return;
    const whole = pending.parts.filter(Boolean).join(' ');
    const match = /^(\w+)\s*(.*)$/.exec(whole);
    if (match) {
      const args = match[2]!;
      instructions.push({ keyword: match[1]!.toUpperCase(), args, ...splitFlags(args), line: pending.line });
    }
    pending = undefined;
  });
  return instructions;
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of parseInstructions(text)) {
    if (instruction.keyword === 'FROM') {
      const [image, as, name] = instruction.rest.split(/\s+/);
      stages.push({ image: image!, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), instructions: [] });
    } else {
      if (stages.length === 0) throw new Error(`Dockerfile line ${instruction.line}: ${instruction.keyword} before FROM`);
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

/** An exec-form (`["a","b"]`) or shell-form argument list. */
export function argv(rest: string): { exec: boolean; words: string[] } {
  if (rest.trimStart().startsWith('[')) return { exec: true, words: JSON.parse(rest) as string[] };
  return { exec: false, words: rest.split(/\s+/).filter(Boolean) };
}

/** COPY's sources and destination. */
export function copyParts(instruction: Instruction): { from?: string; sources: string[]; dest: string } {
  const { words } = argv(instruction.rest);
  if (words.length < 2) throw new Error(`Dockerfile line ${instruction.line}: COPY needs a source and a destination`);
  return { ...(instruction.flags.from ? { from: instruction.flags.from } : {}), sources: words.slice(0, -1), dest: words.at(-1)! };
}

/** `ENV a=b c=d` (or the old `ENV a b`) as pairs. */
export function envPairs(instruction: Instruction): Record<string, string> {
  const rest = instruction.rest.trim();
  if (!/^\S+=/.test(rest)) {
    const [key, ...value] = rest.split(/\s+/);
    return { [key!]: value.join(' ') };
  }
  return Object.fromEntries([...rest.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)/g)].map((m) => [m[1]!, m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!]));
}

/** The last instruction of `keyword` in a stage (Docker uses the last ENTRYPOINT, CMD, USER...). */
export function last(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).at(-1);
}

// --- .dockerignore ---

export interface IgnoreRule {
  exclude: boolean;
  pattern: RegExp;
}

function patternRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` matches any number of directories, zero included; a bare `**` anything.
      source += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

export function parseDockerignore(text: string): IgnoreRule[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const exclude = !line.startsWith('!');
      const path = (exclude ? line : line.slice(1)).trim().replace(/^\/+/, '').replace(/\/+$/, '').replace(/^\.\//, '');
      return { exclude, pattern: patternRegExp(path) };
    });
}

/** Whether a context-relative path (`src/a.ts`) is left out of the build context. */
export function isIgnored(path: string, rules: readonly IgnoreRule[]): boolean {
  const parts = path.split('/').filter(Boolean);
  // A path is out when it or a directory above it matches (the last matching rule decides each).
  for (let depth = 1; depth <= parts.length; depth++) {
    const prefix = parts.slice(0, depth).join('/');
    let excluded = false;
    for (const rule of rules) if (rule.pattern.test(prefix)) excluded = rule.exclude;
    if (excluded) return true;
  }
  return false;
}
