/**
 * Builders (pure) for the settings a restored cluster starts with. Written into
 * postgresql.auto.conf, which PostgreSQL reads last, so they override the backup's own.
 */
import { formatLsn } from '../catalog/segments.js';
import { exactTargetTime } from '../catalog/targets.js';
import type { RecoveryTarget, TargetAction } from '../types.js';

import { confQuote, shellQuote } from '../util/quote.js';

export { confQuote, shellQuote };

export interface RecoverySettingsInput {
  target: RecoveryTarget;
  inclusive: boolean;
  action: TargetAction;
  restoreCommand: string;
  /** Where a side instance listens; omitted in place, where production's own settings stay. */
  listen?: { port: number; socketDir: string; addresses: string };
  /** The timeline the WAL chain was checked on; 'latest' when not given. */
  timeline?: number;
  /** For side instances: archiving off, so the new timeline never reaches production's archive. */
  archiving: 'off' | 'keep';
}

export function recoverySettings(input: RecoverySettingsInput): Record<string, string> {
  const settings: Record<string, string> = {
    restore_command: input.restoreCommand,
    // Pinned to the timeline whose WAL chain was checked: 'latest' could pick a newer branch
    // the chosen backup is not an ancestor of.
    recovery_target_timeline: input.timeline === undefined ? 'latest' : String(input.timeline),
  };
  if (input.listen) {
    settings.port = String(input.listen.port);
    settings.unix_socket_directories = input.listen.socketDir;
    settings.listen_addresses = input.listen.addresses;
  }
  const { target } = input;
  switch (target.kind) {
    case 'time':
      // Exactly as given, microseconds and offset included (a JS Date would keep only milliseconds).
      // PostgreSQL refuses zone abbreviations here, and takes "Z" for one: UTC is written +00:00.
      settings.recovery_target_time = exactTargetTime(target).text.replace('T', ' ').replace(/Z$/, '+00:00');
      break;
    case 'xid':
      settings.recovery_target_xid = target.xid;
      break;
    case 'lsn':
      settings.recovery_target_lsn = formatLsn(target.lsn);
      break;
    case 'name':
      settings.recovery_target_name = target.name;
      break;
    case 'immediate':
      settings.recovery_target = 'immediate';
      break;
    case 'latest':
      break;
  }
  if (target.kind !== 'latest') {
    settings.recovery_target_action = input.action;
    if (target.kind !== 'immediate' && target.kind !== 'name') settings.recovery_target_inclusive = input.inclusive ? 'on' : 'off';
  }
  if (input.archiving === 'off') {
    settings.archive_mode = 'off';
    settings.archive_command = '';
  }
  return settings;
}

export function renderConf(settings: Record<string, string>, header: string): string {
  const lines = Object.entries(settings).map(([key, value]) => `${key} = ${/^[0-9]+$/.test(value) ? value : confQuote(value)}`);
  return `\n# ${header}\n${lines.join('\n')}\n`;
}

/**
 * restore_command: take the segment from the spool by rename. While the prefetch still has
 * it on the way (its `.planned` marker exists), retry every 10 ms for up to ~10 s; otherwise
 * (history files, the probe past the end of WAL, a failed download) ask the WAL agent.
 */
export function spoolRestoreCommand(input: { spoolDir: string; nodePath: string; hookPath: string; socketPath: string; waitInShell?: boolean }): string {
  const spooled = `${shellQuote(`${input.spoolDir}/`)}"%f"`;
  const fromAgent = `exec ${shellQuote(input.nodePath)} ${shellQuote(input.hookPath)} fetch ${shellQuote(input.socketPath)} "%f" "%p"`;
  // Without the shell wait, a segment still on its way is waited for by the agent (benchmarks compare both).
  if (input.waitInShell === false) return `mv -f ${spooled} "%p" 2>/dev/null || ${fromAgent}`;
  return `f=${spooled}; n=0; until mv -f "$f" "%p" 2>/dev/null; do if [ -e "$f.planned" ] && [ $n -lt 1000 ]; then n=$((n+1)); sleep 0.01; else ${fromAgent}; fi; done`;
}
