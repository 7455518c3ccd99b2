/**
 * What the web page may ask the stand-in to do, read and checked (pure): JSON bodies only, with
 * the fields each action needs; and the composer's line split into the slash command and its text.
 */
import { z } from 'zod';

const id = z.string().min(1).max(64);
const values = z.record(z.string(), z.record(z.string(), z.union([z.string(), z.array(z.string())])));

const SCHEMAS = {
  command: z.object({ user: id, channel: id, line: z.string().min(1).max(4000) }),
  click: z.object({
    user: id,
    actionId: z.string().min(1).max(255),
    value: z.string().max(2000).optional(),
    channel: id.optional(),
    messageTs: z.string().min(1).max(32).optional(),
    viewId: id.optional(),
  }).refine((v) => v.viewId !== undefined || (v.channel !== undefined && v.messageTs !== undefined), {
    message: 'a click needs viewId, or channel and messageTs',
  }),
  submit: z.object({ user: id, viewId: id, values: values.default({}) }),
  close: z.object({ user: id, viewId: id }),
} as const;

export type WebRequest =
  | ({ kind: 'command' } & z.infer<typeof SCHEMAS.command>)
  | ({ kind: 'click' } & z.infer<typeof SCHEMAS.click>)
  | ({ kind: 'submit' } & z.infer<typeof SCHEMAS.submit>)
  | ({ kind: 'close' } & z.infer<typeof SCHEMAS.close>);

export type ParsedWebRequest = { ok: true; request: WebRequest } | { ok: false; status: number; error: string };

const isKind = (name: string): name is keyof typeof SCHEMAS => Object.hasOwn(SCHEMAS, name);

/** A POST to /web/<name>: which action, or why it is refused (404 unknown, 415 not JSON, 400 bad fields). */
export function webRequest(name: string, contentType: string, body: string): ParsedWebRequest {
  if (!isKind(name)) return { ok: false, status: 404, error: `no web action ${name}` };
  if (!contentType.toLowerCase().startsWith('application/json')) return { ok: false, status: 415, error: 'send JSON (content-type: application/json)' };
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { ok: false, status: 400, error: 'the body is not JSON' };
  }
  const parsed = SCHEMAS[name].safeParse(raw);
  if (!parsed.success) return { ok: false, status: 400, error: parsed.error.issues.map((i) => `${i.path.join('.') || name}: ${i.message}`).join('; ') };
  // Optional fields the page left out stay absent (the user actions tell absent from empty).
  const data = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
  return { ok: true, request: { kind: name, ...data } as WebRequest };
}

/** `/recover pitr 2025-01-15 14:29` → command `/recover`, text `pitr 2025-01-15 14:29`. */
export function parseComposer(line: string): { command: string; text: string } {
  const match = /^\s*(\/[a-z0-9_-]+)(?:\s+([\s\S]*))?$/i.exec(line);
  if (!match?.[1]) throw new Error('type a slash command, e.g. /recover help (plain messages are not sent to the bot)');
  return { command: match[1].toLowerCase(), text: (match[2] ?? '').trim() };
}
