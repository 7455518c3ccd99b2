import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStandInCore } from '../../../../devkit/slack-standin/core.js';
import {
  COMMON_ERRORS, METHODS, NEWER_THAN_SPEC_ERRORS, UNIVERSAL_PARAMS, defaultScopes, unknownParamsOf, type MethodDefinition,
} from '../../../../devkit/slack-standin/method-table.js';

// Slack's OpenAPI description sits beside the checkout; the stand-in never reads it at run time.
const SPEC_PATH = resolve(process.cwd(), '../shared/reference/slack-api-specs/slack_web_openapi_v2.json');
const haveSpec = existsSync(SPEC_PATH);

interface SpecOperation {
  parameters?: Array<{ name: string; required?: boolean }>;
  security?: Array<{ slackAuth?: string[] }>;
  responses: Record<string, { schema?: { required?: string[]; properties?: { error?: { enum?: string[] } } } }>;
}
type Spec = { paths: Record<string, Record<string, SpecOperation>> };

function loadSpec(): Spec {
  return JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as Spec;
}

function operation(spec: Spec, method: string): SpecOperation | undefined {
  const path = spec.paths[`/${method}`];
  return path ? Object.values(path)[0] : undefined;
}

const table = Object.entries(METHODS) as Array<[string, MethodDefinition]>;
const checkedAgainstSpec = table.filter(([, d]) => d.newerThanSpec === undefined);

describe('method table (no spec needed)', () => {
  it.each(table)('%s requires only parameters it accepts', (_name, definition) => {
    for (const name of definition.required) expect(definition.params).toContain(name);
  });

  it('flags parameters a method does not have, but never the token or team_id', () => {
    expect(unknownParamsOf('chat.update', { channel: 'C', ts: '1', token: 'x', team_id: 'T', thread_ts: '1' })).toEqual(['thread_ts']);
    expect(unknownParamsOf('no.such', { a: 1 })).toEqual(['a']);
  });

  it('declares every error code the handlers can throw', () => {
    const dir = resolve(import.meta.dirname, '../../../../devkit/slack-standin');
    const source = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(resolve(dir, f), 'utf8')).join('\n');
    const thrown = [...source.matchAll(/(?:SlackApiError|validationError)\('([a-z_]+)'/g)].map((m) => m[1] ?? '');
    const declared = new Set<string>([...COMMON_ERRORS, ...table.flatMap(([, d]) => d.errors)]);
    expect(thrown.length).toBeGreaterThan(10);
    expect([...new Set(thrown)].filter((code) => !declared.has(code))).toEqual([]);
  });

  it('grants by default every scope the methods need', () => {
    expect(defaultScopes().sort()).toEqual(['channels:history', 'channels:read', 'chat:write', 'files:write', 'groups:history', 'groups:read', 'usergroups:read', 'users:read']);
  });
});

describe.skipIf(!haveSpec)("method table against Slack's OpenAPI spec", () => {
  const spec = haveSpec ? loadSpec() : { paths: {} };

  it.each(checkedAgainstSpec)('%s exists in the spec with every parameter the stand-in accepts', (name, definition) => {
    const op = operation(spec, name);
    expect(op, `${name} is not in the spec`).toBeDefined();
    const specParams = new Set((op?.parameters ?? []).map((p) => p.name));
    const newer = definition.paramsNewerThanSpec ?? {};
    expect(definition.params.filter((p) => !specParams.has(p) && !(p in newer))).toEqual([]);
    // An exception the spec no longer needs is dropped.
    expect(Object.keys(newer).filter((p) => specParams.has(p) || !definition.params.includes(p))).toEqual([]);
  });

  it.each(checkedAgainstSpec)('%s answers only with error codes the spec lists (or documented newer ones)', (name, definition) => {
    const listed = operation(spec, name)?.responses.default?.schema?.properties?.error?.enum;
    if (listed === undefined) return; // views.* publish no error list
    const unlisted = definition.errors.filter((code) => !listed.includes(code) && !(code in NEWER_THAN_SPEC_ERRORS));
    expect(unlisted).toEqual([]);
  });

  it.each(checkedAgainstSpec.filter(([, d]) => d.scope !== undefined))('%s needs a scope the spec names', (name, definition) => {
    const scopes = (operation(spec, name)?.security ?? []).flatMap((s) => s.slackAuth ?? []);
    // The spec uses classic scope names (chat:write:bot); granular bot scopes are their prefix.
    expect(scopes.some((s) => s === definition.scope || s.startsWith(`${definition.scope}:`))).toBe(true);
  });

  it.each(checkedAgainstSpec.filter(([, d]) => d.privateScope !== undefined))('%s: its private-channel scope is one the spec names', (name, definition) => {
    const scopes = (operation(spec, name)?.security ?? []).flatMap((s) => s.slackAuth ?? []);
    expect(scopes).toContain(definition.privateScope);
  });

  it('uses common error codes and universal parameters that exist in the spec', () => {
    const allOps = Object.values(spec.paths).flatMap((p) => Object.values(p));
    const allErrors = new Set(allOps.flatMap((op) => op.responses.default?.schema?.properties?.error?.enum ?? []));
    expect(COMMON_ERRORS.filter((code) => !allErrors.has(code) && !(code in NEWER_THAN_SPEC_ERRORS))).toEqual([]);
    const allParams = new Set(allOps.flatMap((op) => (op.parameters ?? []).map((p) => p.name)));
    expect(Object.keys(UNIVERSAL_PARAMS).filter((p) => !allParams.has(p))).toEqual([]);
  });

  it('lists no newer-than-spec error code that the spec in fact lists for a method using it', () => {
    for (const [name, definition] of checkedAgainstSpec) {
      const listed = operation(spec, name)?.responses.default?.schema?.properties?.error?.enum ?? [];
      for (const code of definition.errors) {
        if (code in NEWER_THAN_SPEC_ERRORS) expect(listed, `${name}: ${code} is in the spec, drop the exception`).not.toContain(code);
      }
    }
  });

  it('answers every method with the fields the spec says a success response has', () => {
    const core = createStandInCore({ botToken: 'xoxb-t', signingSecret: 's', usergroups: { S0APPROVERS: ['U0ALICE'] } });
    const posted = core.call('chat.postMessage', { channel: 'C0INCIDENT', text: 'hello' }).body;
    const ts = String(posted.ts);
    const view = { type: 'modal', title: { type: 'plain_text', text: 'T' }, blocks: [] };
    const opened = core.call('views.open', { trigger_id: core.triggers.issue('U0ALICE'), view }).body;
    const viewId = String((opened.view as { id: string }).id);
    const successes: Record<string, Record<string, unknown>> = {
      'auth.test': core.call('auth.test').body,
      'chat.postMessage': posted,
      'chat.update': core.call('chat.update', { channel: 'C0INCIDENT', ts, text: 'edited' }).body,
      'chat.postEphemeral': core.call('chat.postEphemeral', { channel: 'C0INCIDENT', user: 'U0BOB', text: 'psst' }).body,
      'chat.getPermalink': core.call('chat.getPermalink', { channel: 'C0INCIDENT', message_ts: ts }).body,
      'views.open': opened,
      'views.push': core.call('views.push', { trigger_id: core.triggers.issue('U0ALICE'), view }).body,
      'views.update': core.call('views.update', { view_id: viewId, view }).body,
      'users.info': core.call('users.info', { user: 'U0ALICE' }).body,
      'usergroups.users.list': core.call('usergroups.users.list', { usergroup: 'S0APPROVERS' }).body,
      'conversations.info': core.call('conversations.info', { channel: 'C0INCIDENT' }).body,
      'conversations.history': core.call('conversations.history', { channel: 'C0INCIDENT', include_all_metadata: true }).body,
      'conversations.replies': core.call('conversations.replies', { channel: 'C0INCIDENT', ts }).body,
    };
    expect(Object.keys(successes).sort()).toEqual(checkedAgainstSpec.map(([n]) => n).sort());
    for (const [name, body] of Object.entries(successes)) {
      expect(body.ok, `${name}: ${JSON.stringify(body)}`).toBe(true);
      const required = operation(spec, name)?.responses['200']?.schema?.required ?? [];
      expect(required.filter((field) => !(field in body)), name).toEqual([]);
    }
    expect(core.webApi.unknownCalls()).toEqual([]);
  });
});
