/**
 * manifest.yml against Slack's official app-manifest JSON Schema (slackapi/manifest-schema,
 * kept beside the checkout in ../shared/reference; see SOURCE.md there), and against the bot
 * itself: the slash command and the request URLs are the ones it registers, and its scopes are
 * exactly what the Web API methods it calls need (read from src/slack, looked up in the Slack
 * stand-in's method table, which test/unit/devkit/slack-standin/method-table.test.ts checks
 * against Slack's own OpenAPI description). A new call, a new listener or an edited manifest
 * that do not agree fail here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { METHODS, type MethodDefinition } from '../../../devkit/slack-standin/method-table.js';
import { SLACK_EVENTS_PATH } from '../../../src/slack/io/fast-ack-receiver.js';
import { SLASH_COMMAND } from '../../../src/slack/listeners/handlers.js';
import { parse as parseYaml } from 'yaml';

const ROOT = resolve(import.meta.dirname, '../../..');
// The schema sits beside the checkout, found from the working directory like the OpenAPI spec.
const SCHEMA_DIR = resolve(process.cwd(), '../shared/reference/slack-manifest-schema');
const haveSchema = existsSync(join(SCHEMA_DIR, 'manifest.schema.json'));
/** The URLs manifest.schema.json $refs its two versions by (v0.5.0 of slackapi/manifest-schema). */
const VERSION_URL = 'https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/';

interface Manifest {
  features: { slash_commands?: Array<{ command: string; url?: string }> };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    interactivity?: { is_enabled: boolean; request_url?: string };
    event_subscriptions?: { request_url?: string; bot_events?: string[] };
    socket_mode_enabled?: boolean;
  };
}

const manifest = parseYaml(readFileSync(join(ROOT, 'manifest.yml'), 'utf8')) as unknown as Manifest;

function botSources(): string {
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? walk(path) : e.name.endsWith('.ts') ? [path] : [];
  });
  return walk(join(ROOT, 'src/slack')).map((file) => readFileSync(file, 'utf8')).join('\n');
}

/**
 * `writer.chat.postMessage(`, `this.client.files.completeUploadExternal(` → the Web API method
 * names. The bot's WebClients are named client, writer (posts) and reader (looking for posts).
 */
function calledMethods(source: string): string[] {
  const calls = source.matchAll(/\b(?:client|writer|reader)\.(auth|apps|chat|conversations|files|reactions|usergroups|users|views)\.([a-zA-Z]+(?:\.[a-zA-Z]+)*)\(/g);
  return [...new Set([...calls].map((m) => `${m[1]}.${m[2]}`))].sort();
}

/**
 * conversations.info is asked only for a slash command from a private channel (Slack names it
 * `privategroup`, listeners/guards.ts needsNameLookup), so it needs groups:read, not channels:read.
 */
const ONLY_PRIVATE_CHANNELS = new Set(['conversations.info']);

function scopesNeeded(methods: readonly string[]): string[] {
  const scopes = methods.flatMap((name) => {
    const d = (METHODS as Record<string, MethodDefinition>)[name]!;
    return ONLY_PRIVATE_CHANNELS.has(name) ? [d.privateScope] : [d.scope, d.privateScope];
  });
  // `commands`: the slash command itself.
  return [...new Set(['commands', ...scopes.filter((s): s is string => s !== undefined)])].sort();
}

const pathOf = (url: string | undefined): string | undefined => (url ? new URL(url).pathname : undefined);

describe.skipIf(!haveSchema)("manifest.yml against Slack's app-manifest JSON Schema", () => {
  it('validates (draft-07, with the versioned schemas it refers to)', () => {
    const ajv = new Ajv({ allErrors: true, strict: false, formats: { uri: (s: string) => URL.canParse(s) } });
    for (const version of ['1.0.0', '2.0.0']) {
      const file = `manifest.schema.${version}.json`;
      ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as object, `${VERSION_URL}${file}`);
    }
    const validate = ajv.compile(JSON.parse(readFileSync(join(SCHEMA_DIR, 'manifest.schema.json'), 'utf8')) as object);
    expect(validate(manifest), JSON.stringify(validate.errors, null, 1)).toBe(true);
    // The schema can fail: a manifest without its required display name does not pass.
    expect(validate({ ...manifest, display_information: {} })).toBe(false);
  });
});

describe('manifest.yml against what the bot registers and calls', () => {
  it('the one slash command is the one the bot listens to, at its request path', () => {
    const commands = manifest.features.slash_commands ?? [];
    expect(commands.map((c) => c.command)).toEqual(['/recover']);
    expect(SLASH_COMMAND.test(commands[0]!.command)).toBe(true);
    expect(pathOf(commands[0]!.url)).toBe(SLACK_EVENTS_PATH);
  });

  it('interactivity is on (buttons, the confirmation modal) at the same request path', () => {
    const source = botSources();
    expect(source).toMatch(/app\.(action|view)\(/);
    expect(manifest.settings.interactivity?.is_enabled).toBe(true);
    expect(pathOf(manifest.settings.interactivity?.request_url)).toBe(SLACK_EVENTS_PATH);
  });

  it('event subscriptions only if the bot listens to events, at the same request path', () => {
    const events = [...botSources().matchAll(/app\.event\(\s*'([\w.]+)'/g)].map((m) => m[1]!).sort();
    const subscriptions = manifest.settings.event_subscriptions;
    if (events.length === 0) expect(subscriptions).toBeUndefined();
    else {
      expect(pathOf(subscriptions?.request_url)).toBe(SLACK_EVENTS_PATH);
      expect([...(subscriptions?.bot_events ?? [])].sort()).toEqual(events);
    }
  });

  it('every Web API method the bot calls is one the stand-in knows (so its scope is known)', () => {
    const called = calledMethods(botSources());
    expect(called).toContain('chat.postMessage');
    // A generic call would hide its method from this list.
    expect(botSources()).not.toMatch(/\.apiCall\(/);
    expect(called.filter((name) => !Object.hasOwn(METHODS, name))).toEqual([]);
  });

  it('bot scopes: exactly those the called methods need, no more', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(scopesNeeded(calledMethods(botSources())));
  });
});

describe('helpers of this test', () => {
  it.each([
    ['await writer.chat.postMessage({', ['chat.postMessage']],
    ['this.client.usergroups.users.list({ usergroup })', ['usergroups.users.list']],
    ['// chat.postMessage goes through a client', []],
    ['approvers.users.map((u) => u)', []],
    ['reader.auth.test().then(', ['auth.test']],
  ])('calledMethods(%j)', (source, expected) => {
    expect(calledMethods(source)).toEqual(expected);
  });

  it.each([
    [['chat.update'], ['chat:write', 'commands']],
    [['conversations.history'], ['channels:history', 'commands', 'groups:history']],
    [['conversations.info'], ['commands', 'groups:read']],
    [['views.open', 'auth.test'], ['commands']],
  ])('scopesNeeded(%j)', (methods, expected) => {
    expect(scopesNeeded(methods)).toEqual(expected);
  });
});
