/** Quoting for the two languages PostgreSQL settings are written in (pure). */

/** Quotes a value for postgresql.conf: single quotes, embedded quotes doubled. */
export function confQuote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** Quotes one word for /bin/sh, the way PostgreSQL runs restore_command. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
