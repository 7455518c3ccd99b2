import { pino, type DestinationStream } from 'pino';
import type { Logger } from './types.js';

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'connectionString',
  '*.connectionString',
  'accountKey',
  '*.accountKey',
  'token',
  '*.token',
  'signingSecret',
  '*.signingSecret',
  'PGPASSWORD',
  '*.PGPASSWORD',
  'url',
  '*.url',
  'botToken',
  '*.botToken',
  'appToken',
  '*.appToken',
  'accessToken',
  '*.accessToken',
];

/** Masks credentials inside free text such as a connection string quoted in an error. */
export function redactText(text: string): string {
  return text
    .replace(/(AccountKey=)[^;]+/gi, '$1***')
    .replace(/(SharedAccessSignature=|sig=)[^;&\s]+/gi, '$1***')
    .replace(/(postgres(?:ql)?:\/\/[^:/@\s]+:)[^@\s]+@/gi, '$1***@')
    .replace(/(xox[abpr]-|xapp-)[\w-]+/g, '$1***')
    .replace(/(Bearer\s+)[\w.~+/=-]+/gi, '$1***');
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '***' },
      serializers: {
        // Errors are logged as { err }: their message and stack may quote a connection string.
        err: (error: unknown) => {
          const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
          for (const key of ['message', 'stack'] as const) {
            if (typeof serialized[key] === 'string') serialized[key] = redactText(serialized[key] as string);
          }
          return serialized;
        },
      },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((arg) => (typeof arg === 'string' ? redactText(arg) : arg)) as Parameters<typeof method>;
          return method.apply(this, redacted);
        },
      },
    },
    destination ?? pino.destination(2),
  );
}
