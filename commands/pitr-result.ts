/**
 * What a pitr job reports: its result as the bot reads it back from the control DB (parsed
 * defensively: anything missing is null), the summary facts it gives Slack, and its text in
 * the CLI.
 */
import { z } from 'zod';
import { targetSchema, type PitrArgs } from './pitr-args.js';
import type { SummaryFacts } from './types.js';

const str = z.string().min(1).nullable().catch(null);
const num = z.number().finite().nullable().catch(null);
const record = <T extends z.ZodRawShape>(shape: T) => z.preprocess((value) => (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}), z.object(shape));

/** A PITR result as the summary uses it (engine/pitr.ts PitrResult is what the runner stores). */
export const pitrResultSchema = record({
  backupId: str.default(null),
  target: str.default(null),
  state: str.default(null),
  reachedTime: str.default(null),
  replayLsn: str.default(null),
  timeline: num.default(null),
  dataDir: str.default(null),
  port: num.default(null),
  connect: str.default(null),
  oldDataDir: str.default(null),
  walSegments: num.default(null),
  seconds: record({ total: num.default(null), baseBackup: num.default(null), replay: num.default(null) }),
  report: z.unknown().optional(),
});
export type PitrResultView = z.infer<typeof pitrResultSchema>;

/** The recovery target in words; a time target as its exact text (the view formats it). */
export function targetFact(target: PitrArgs['target'] | undefined): SummaryFacts['target'] {
  if (!target) return null;
  switch (target.kind) {
    case 'time':
      return { text: target.time, time: target.time };
    case 'xid':
      return { text: `transaction ${target.xid}`, time: null };
    case 'lsn':
      return { text: `LSN ${target.lsn}`, time: null };
    case 'name':
      return { text: `restore point ${target.name}`, time: null };
    case 'immediate':
      return { text: 'end of the base backup (immediate)', time: null };
    case 'latest':
      return { text: 'end of the archived WAL (latest)', time: null };
  }
}

/** Only what the summary needs from the stored params: the target and where it restored. */
const summaryParams = record({ target: targetSchema.optional().catch(undefined), to: z.enum(['side', 'in-place']).nullable().catch(null).default(null) });

export function pitrSummary(storedParams: unknown, result: PitrResultView | null): SummaryFacts {
  const params = summaryParams.parse(storedParams);
  return {
    target: targetFact(params.target),
    to: params.to,
    recovery: result
      ? { reachedTime: result.reachedTime, replayLsn: result.replayLsn, timeline: result.timeline, dataDir: result.dataDir, port: result.port, connect: result.connect, oldDataDir: result.oldDataDir }
      : null,
    followUps: [],
  };
}
