/** PostgreSQL connection URLs as people write them in settings (pure). */
import { RecoverError } from '../errors.js';

/** Connection facts from a postgres:// URL; the password only ever goes into a child's env. */
export interface SourceConnection {
  host: string;
  port: number;
  user: string;
  database: string;
  password?: string;
}

export const CONNECTION_URL_EXAMPLES =
  'postgres://USER:PASSWORD@HOST:5432/DB, or over a Unix socket postgres://USER@/DB?host=/var/run/postgresql';

function invalidUrl(setting: string, reason: string, cause?: unknown): RecoverError {
  // Never the value itself: it may hold a password.
  return new RecoverError('CONFIG_INVALID', `${setting} is not a valid PostgreSQL connection URL: ${reason}.`, {
    hint: `Use e.g. ${CONNECTION_URL_EXAMPLES}. Percent-encode @ : / ? # % in the user name or password (e.g. @ as %40).`,
    ...(cause === undefined ? {} : { cause }),
  });
}

function decodePart(setting: string, text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch (error) {
    throw invalidUrl(setting, `the ${what} has a broken %-escape`, error);
  }
}

/**
 * Parses a libpq-style URL: `postgres[ql]://[user[:password]@][host][:port][/db][?host=…&port=…&user=…&password=…&dbname=…]`.
 * An empty host (`postgres://user@/db?host=/run/postgresql`) and a %-encoded socket directory
 * as host (`postgres://%2Frun%2Fpostgresql/db`) are accepted, as libpq and node-postgres do;
 * WHATWG's URL parser alone refuses the first. Errors are CONFIG_INVALID naming `setting`.
 */
export function parseConnectionUrl(url: string, setting = 'RECOVER_SOURCE_URL'): SourceConnection {
  const text = url.trim();
  const scheme = /^(postgres|postgresql):\/\//i.exec(text);
  if (!scheme) throw invalidUrl(setting, 'it must start with postgres:// or postgresql://');
  if (text.includes('#')) throw invalidUrl(setting, 'it contains "#" (a password with # must be written %23)');
  const rest = text.slice(scheme[0].length);
  const authorityEnd = rest.search(/[/?]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const afterAuthority = authorityEnd < 0 ? '' : rest.slice(authorityEnd);
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? '' : authority.slice(0, at);
  const hostPort = at < 0 ? authority : authority.slice(at + 1);
  if (/[\s]/.test(authority)) throw invalidUrl(setting, 'the user, password or host contains a space');
  let host = '';
  let portText = '';
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) throw invalidUrl(setting, 'an IPv6 host is missing its closing "]"');
    host = hostPort.slice(1, close);
    const tail = hostPort.slice(close + 1);
    if (tail && !tail.startsWith(':')) throw invalidUrl(setting, 'unexpected text after the IPv6 host');
    portText = tail.slice(1);
  } else {
    const colon = hostPort.lastIndexOf(':');
    host = colon < 0 ? hostPort : hostPort.slice(0, colon);
    portText = colon < 0 ? '' : hostPort.slice(colon + 1);
    if (host.includes(',')) throw invalidUrl(setting, 'several hosts are not supported; give one');
    host = decodePart(setting, host, 'host');
  }
  const colon = userinfo.indexOf(':');
  const userText = colon < 0 ? userinfo : userinfo.slice(0, colon);
  const passwordText = colon < 0 ? undefined : userinfo.slice(colon + 1);
  const queryStart = afterAuthority.indexOf('?');
  const pathText = queryStart < 0 ? afterAuthority : afterAuthority.slice(0, queryStart);
  const params = new URLSearchParams(queryStart < 0 ? '' : afterAuthority.slice(queryStart + 1));
  const portValue = params.get('port') ?? portText;
  let port = 5432;
  if (portValue !== '') {
    if (!/^\d{1,5}$/.test(portValue) || Number(portValue) < 1 || Number(portValue) > 65535) throw invalidUrl(setting, 'the port must be a number from 1 to 65535');
    port = Number(portValue);
  }
  const database = params.get('dbname') ?? decodePart(setting, pathText.replace(/^\//, ''), 'database name');
  if (database.includes('/')) throw invalidUrl(setting, 'the database name contains "/"');
  const password = params.get('password') ?? (passwordText === undefined ? undefined : decodePart(setting, passwordText, 'password'));
  return {
    host: params.get('host') || host || '/var/run/postgresql',
    port,
    user: params.get('user') || decodePart(setting, userText, 'user name') || 'postgres',
    database: database || 'postgres',
    ...(password ? { password } : {}),
  };
}

export function pgClientConfig(conn: SourceConnection, database = conn.database) {
  return { host: conn.host, port: conn.port, user: conn.user, database, ...(conn.password ? { password: conn.password } : {}) };
}

