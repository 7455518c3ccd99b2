/**
 * Value checkers for environment settings (zod): each names what it expects with an example
 * and never repeats the value itself (it may be a password or a key).
 */
import { z } from 'zod';
import { parseConnectionUrl, CONNECTION_URL_EXAMPLES } from '../util/connection-url.js';
import { RecoverError } from '../errors.js';
import { parseCron } from '../util/cron.js';

export const jsonArgv = z
  .string()
  .transform((text, ctx) => {
    try {
      const value: unknown = JSON.parse(text);
      if (Array.isArray(value) && value.length > 0 && value.every((part) => typeof part === 'string')) {
        return value as string[];
      }
    } catch {
      // fall through to the issue below: a parse failure and a wrong shape get the same fix
    }
    ctx.addIssue({ code: 'custom', message: 'expected a JSON array of strings, e.g. ["systemctl","stop","postgresql@15-main"]' });
    return z.NEVER;
  });

/** A postgres:// URL, checked when the configuration is read; the message never repeats the value (it may hold a password). */
export const postgresUrl = (setting: string) =>
  z.string().min(1).superRefine((text, ctx) => {
    try {
      parseConnectionUrl(text, setting);
    } catch (error) {
      const reason = error instanceof RecoverError ? error.message.replace(`${setting} is `, '') : 'not a valid URL';
      ctx.addIssue({ code: 'custom', message: `${reason.replace(/\.$/, '')}; expected e.g. ${CONNECTION_URL_EXAMPLES}` });
    }
  });

const AZURE_CONNECTION_STRING_EXAMPLE = 'DefaultEndpointsProtocol=https;AccountName=ACCOUNT;AccountKey=KEY;EndpointSuffix=core.windows.net (or UseDevelopmentStorage=true for a local Azurite)';

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false; // the caller names the setting and shows an example
  }
}

/** Why an Azure Storage connection string cannot work, or null. Never quotes a value (keys are secrets). */
export function azureConnectionStringProblem(text: string): string | null {
  const pairs = new Map<string, string>();
  for (const part of text.split(';').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) return 'every part must be Key=Value, separated by ";"';
    pairs.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  if (pairs.get('usedevelopmentstorage')?.toLowerCase() === 'true') return null;
  const endpoint = pairs.get('blobendpoint');
  if (endpoint !== undefined && !isHttpUrl(endpoint)) return 'BlobEndpoint is not an http(s) URL';
  if (!pairs.get('accountkey') && !pairs.get('sharedaccesssignature')) return 'it needs AccountKey or SharedAccessSignature';
  if (!pairs.get('accountname') && !(endpoint && pairs.get('sharedaccesssignature'))) return 'it needs AccountName';
  const protocol = pairs.get('defaultendpointsprotocol');
  if (endpoint === undefined && protocol === undefined) return 'it needs DefaultEndpointsProtocol or BlobEndpoint';
  if (protocol !== undefined && !['http', 'https'].includes(protocol.toLowerCase())) return 'DefaultEndpointsProtocol must be https or http';
  return null;
}

export const azureConnectionString = z.string().min(1).superRefine((text, ctx) => {
  const problem = azureConnectionStringProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: `not a valid connection string: ${problem}; expected e.g. ${AZURE_CONNECTION_STRING_EXAMPLE}` });
});

export const httpUrl = (example: string) =>
  z.string().refine(isHttpUrl, { message: `expected an http(s) URL, e.g. ${example}` });

/** A flexible server's name as Azure allows it: 3-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen. */
export const azureServerName = z.string().regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'expected a flexible server name (3-63 lowercase letters, digits, hyphens), e.g. pg-prod-eastus');
export const azureResourceGroup = z.string().regex(/^[-\w.()]{1,89}[-\w()]$/, 'expected a resource group name, e.g. rg-db-prod');
export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** A JSON value checked against a schema, with the same kind of message as every other key. */
export const jsonOf = <T extends z.ZodType>(schema: T, example: string) =>
  z.string().transform((text, ctx) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected JSON, e.g. ${example}` });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: `expected JSON like ${example}` });
      return z.NEVER;
    }
    return parsed.data as z.infer<T>;
  });

export const approversSchema = z.record(
  z.string().regex(/^[TE][A-Z0-9]+$/),
  z.object({ users: z.array(z.string().regex(/^[UW][A-Z0-9]+$/)).default([]), usergroups: z.array(z.string().regex(/^S[A-Z0-9]+$/)).default([]) }),
);
export const requiredSchema = z.object({ 'read-only': z.number().int().min(0).max(5), 'side-copy': z.number().int().min(0).max(5), destructive: z.number().int().min(1).max(5) }).partial();
export const booleanFlag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

/** A RECOVER_BACKUP_SCHEDULE expression (the subset util/cron.ts reads), kept as text. */
export const cronText = z.string().superRefine((text, ctx) => {
  const parsed = parseCron(text);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});
