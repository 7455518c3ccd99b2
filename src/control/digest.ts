/**
 * Canonical JSON and plan digests. Approvals bind to `planDigest(plan, requestId)`, so the same
 * plan must always give the same text, whatever the key order or the process that built it,
 * and after a round trip through jsonb (where bigints and Dates have become strings). The
 * request id is part of the digest: two requests with identical plans (e.g. two in-place
 * restores to the same target) never share a digest, so an approval of one cannot be
 * replayed onto the other.
 *
 * The output matches RFC 8785 (JCS) for the JSON values it shares: keys sorted by UTF-16
 * code units, no whitespace, numbers as ECMAScript prints them.
 */
import { createHash } from 'node:crypto';
import { RecoverError } from '../errors.js';
import type { Plan } from '../types.js';

export function canonicalJson(value: unknown): string {
  const text = canonicalValue(value, new Set());
  if (text === undefined) {
    throw new RecoverError('BAD_INPUT', 'canonicalJson: the value itself is not representable in JSON.');
  }
  return text;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function planDigest(plan: Plan, requestId: string): string {
  if (!requestId) throw new RecoverError('INTERNAL', 'planDigest: a plan digest needs the id of its request.');
  return sha256Hex(canonicalJson({ requestId, plan }));
}

/** Returns undefined for values JSON leaves out of objects (undefined, functions, symbols). */
function canonicalValue(value: unknown, ancestors: Set<object>): string | undefined {
  switch (typeof value) {
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'number':
      if (!Number.isFinite(value)) {
        throw new RecoverError('BAD_INPUT', `canonicalJson: ${value} has no JSON form.`);
      }
      return JSON.stringify(value);
    case 'object':
      return value === null ? 'null' : canonicalObject(value, ancestors);
  }
}

function canonicalObject(value: object, ancestors: Set<object>): string | undefined {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new RecoverError('BAD_INPUT', 'canonicalJson: invalid Date.');
    return JSON.stringify(value.toISOString());
  }
  // JSON.stringify turns these into {} silently: a plan holding one would hash the same
  // whatever it contained.
  if (value instanceof Map || value instanceof Set) {
    throw new RecoverError('BAD_INPUT', 'canonicalJson: Map and Set have no canonical JSON form; use objects and arrays.');
  }
  const withToJson = value as { toJSON?: unknown };
  if (typeof withToJson.toJSON === 'function') {
    return canonicalValue((withToJson.toJSON as () => unknown).call(value), ancestors);
  }
  if (ancestors.has(value)) throw new RecoverError('BAD_INPUT', 'canonicalJson: circular structure.');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return `[${value.map((item: unknown) => canonicalValue(item, ancestors) ?? 'null').join(',')}]`;
    }
    const members: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const member = canonicalValue((value as Record<string, unknown>)[key], ancestors);
      if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}
