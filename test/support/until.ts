/**
 * Polls until `probe` returns a value (not undefined), at most `timeoutMs`. Errors of the probe
 * count as "not yet": the control DB may be restarting, or a process not yet up. Tests wait for
 * a condition this way, never for a fixed time.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
