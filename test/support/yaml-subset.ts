/**
 * Reads the small part of YAML that manifest.yml uses, for the manifest test (there is no
 * YAML parser among the dependencies): block mappings, block sequences (of scalars or of
 * mappings), plain, single- and double-quoted scalars, booleans, integers, null, and `#`
 * comments. Anything else (flow collections, block scalars, anchors, tags, tabs) is refused
 * with the line number, so the manifest cannot quietly be read differently than Slack reads it.
 */

type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

interface Line {
  no: number;
  indent: number;
  text: string;
}

/** The line without its comment: a `#` at the start or after a space, outside quotes. */
function stripComment(raw: string): string {
  let quote: string | undefined;
  for (let i = 0; i < raw.length; i += 1) {
    const c = raw[i];
    if (quote) {
      if (c === '\\' && quote === '"') i += 1;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || raw[i - 1] === ' ')) return raw.slice(0, i).trimEnd();
  }
  return raw.trimEnd();
}

function lines(text: string): Line[] {
  return text.split('\n').flatMap((raw, index) => {
    if (raw.includes('\t')) throw new Error(`line ${index + 1}: tabs are not supported`);
    const stripped = stripComment(raw);
    if (stripped.trim() === '' || stripped === '---') return [];
    return [{ no: index + 1, indent: stripped.length - stripped.trimStart().length, text: stripped.trim() }];
  });
}

function scalar(text: string, no: number): Value {
  if (/^[[{|>&*!%@`]/.test(text)) throw new Error(`line ${no}: unsupported YAML: ${text}`);
  if (text.startsWith('"')) {
    if (!text.endsWith('"') || text.length < 2) throw new Error(`line ${no}: unterminated string`);
    return JSON.parse(text) as string;
  }
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) throw new Error(`line ${no}: unterminated string`);
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (text === 'true' || text === 'false') return text === 'true';
  if (text === 'null' || text === '~') return null;
  if (/^-?\d+$/.test(text)) return Number(text);
  return text;
}

const KEY = /^([A-Za-z_][\w.-]*):(?:\s+(.*))?$/;

class Reader {
  private i = 0;

  constructor(private readonly all: Line[]) {}

  document(): Value {
    const value = this.block(0);
    const rest = this.all[this.i];
    if (rest) throw new Error(`line ${rest.no}: unexpected indentation`);
    return value;
  }

  private block(indent: number): Value {
    const first = this.all[this.i];
    if (!first || first.indent !== indent) throw new Error(`line ${first?.no ?? 'end'}: expected a block at indent ${indent}`);
    return first.text === '-' || first.text.startsWith('- ') ? this.sequence(indent) : this.mapping(indent);
  }

  private mapping(indent: number): Value {
    const map: { [key: string]: Value } = {};
    for (let line = this.all[this.i]; line && line.indent === indent; line = this.all[this.i]) {
      const match = KEY.exec(line.text);
      if (!match) throw new Error(`line ${line.no}: expected "key: value", got ${line.text}`);
      const key = match[1]!;
      if (Object.hasOwn(map, key)) throw new Error(`line ${line.no}: duplicate key ${key}`);
      this.i += 1;
      map[key] = match[2] !== undefined ? scalar(match[2], line.no) : this.child(indent);
    }
    return map;
  }

  /** A key's nested block: deeper lines, or a sequence at the key's own indent. */
  private child(indent: number): Value {
    const next = this.all[this.i];
    if (next && next.indent > indent) return this.block(next.indent);
    if (next && next.indent === indent && (next.text === '-' || next.text.startsWith('- '))) return this.sequence(indent);
    return null;
  }

  private sequence(indent: number): Value[] {
    const items: Value[] = [];
    for (let line = this.all[this.i]; line && line.indent === indent && (line.text === '-' || line.text.startsWith('- ')); line = this.all[this.i]) {
      const item = line.text.slice(1).trimStart();
      if (item === '') {
        this.i += 1;
        items.push(this.child(indent));
      } else if (KEY.test(item)) {
        // "- key: value" opens a mapping whose keys line up with `key`.
        this.all[this.i] = { no: line.no, indent: indent + (line.text.length - item.length), text: item };
        items.push(this.mapping(this.all[this.i]!.indent));
      } else {
        this.i += 1;
        items.push(scalar(item, line.no));
      }
    }
    return items;
  }
}

export function parseYamlSubset(text: string): Value {
  const all = lines(text);
  return all.length === 0 ? null : new Reader(all).document();
}
