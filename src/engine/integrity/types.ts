/** One check of the integrity report: pass/fail and a message saying what is wrong and where. */
export interface IntegrityCheck {
  name: string;
  ok: boolean;
  message: string;
  /** Passed without checking anything (e.g. amcheck not installed on production); the message says why. */
  skipped?: boolean;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
