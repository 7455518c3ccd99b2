/**
 * The WAL agent's socket protocol: one JSON line each way. The hook script speaks it with
 * nothing but node:net, so PostgreSQL's archive/restore commands start in ~40 ms.
 */
export type AgentRequest =
  | { op: 'push'; path: string; name: string }
  | { op: 'fetch'; name: string; dest: string };

export type AgentReply = { ok: true; detail?: string } | { ok: false; status: 'missing' | 'error'; message: string };

/** Exit codes of the hook. PostgreSQL treats an exit above 125 from restore_command as fatal. */
export const HOOK_EXIT = { ok: 0, missing: 1, retry: 1, abortRecovery: 126 } as const;
