/** One check of the integrity report: pass/fail and a message saying what is wrong and where. */
export interface IntegrityCheck {
  name: string;
  ok: boolean;
  message: string;
  /** Passed without checking anything (e.g. amcheck not installed on production); the message says why. */
  skipped?: boolean;
  /** Passes whatever it finds: facts to read (e.g. a side instance compared with production, expected to differ); shown even when the report is collapsed. */
  informational?: boolean;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** An error as a check's message; a statement_timeout says what to change. */
export function failureText(error: unknown): string {
  const message = (error as Error).message;
  if ((error as { code?: string }).code === '57014') return `${message} (the check's statement_timeout: raise ruleTimeoutMs in RECOVER_VERIFY_CONFIG, or look for what holds a lock on it)`;
  return message;
}

/** amcheck's own verdicts (data_corrupted, index_corrupted): anything else means the index could not be checked. */
export const isCorruption = (error: unknown): boolean => /^XX00[12]$/.test((error as { code?: string }).code ?? '');
