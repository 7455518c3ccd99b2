/**
 * `/recover crash [--recover [--from-backup]]` and `recover crash …`: a crashed or damaged
 * production instance (runbook §2), on the database host (RECOVER_SOURCE_DATA_DIR).
 * - `crash`: triage, read-only (pg_controldata, pg_waldump over pg_wal, the archive, the data
 *   files WAL touches, the running server's checks): what is damaged, which WAL exists only in
 *   pg_wal, and which recovery fits (engine/crash/triage.ts).
 * - `crash --recover`: the recovery the triage chose, shown in the plan and confirmed with
 *   production's name: start production (files intact), or rebuild it in place (the local-only
 *   WAL saved and archived first, the newest base backup restored, all WAL replayed with no
 *   target, the damaged directory kept). `--from-backup` asks for the rebuild whatever the triage.
 */
import { z } from 'zod';
import { selectRestore } from '../../src/catalog/select-restore.js';
import type { Catalog } from '../../src/catalog/catalog.js';
import { STANDBY_STATES } from '../../src/engine/crash/controldata.js';
import { gatherTriage } from '../../src/engine/crash/gather.js';
import { rebuildCrashed, startCrashed, type CrashResult } from '../../src/engine/crash/recover.js';
import { rebuildReplica, type ReplicaResult } from '../../src/engine/crash/replica.js';
import type { Triage } from '../../src/engine/crash/triage.js';
import { readCatalog } from '../../src/engine/read-catalog.js';
import { step } from '../../src/engine/restore-to-target.js';
import { restoreEstimates } from '../../src/estimate/restore.js';
import { RecoverError } from '../../src/errors.js';
import type { Plan } from '../../src/types.js';
import { declaredStep, type BaseFacts, type RecoverCommand } from '../types.js';
import { parseFlags, withCommonCliFlags } from '../words.js';
import { crashResultSchema, crashSummary, formatCrashResult, triageFacts, type CrashResultView } from './view.js';

const schema = z.object({ recover: z.boolean(), fromBackup: z.boolean() }).strict();
type CrashArgs = z.infer<typeof schema>;

const paramsSchema = z.object({
  action: z.enum(['triage', 'start', 'rebuild', 'replica']),
  /** Production's data directory the plan was made for (the runner's RECOVER_SOURCE_DATA_DIR). */
  dataDir: z.string().min(1),
  forceRebuild: z.boolean(),
  backupId: z.string().regex(/^[\w.-]{1,64}$/).nullable(),
});
type CrashParams = z.infer<typeof paramsSchema>;

interface CrashFacts {
  triage: Triage;
  catalog: Catalog;
}

type TriageResult = { path: 'triage'; triage: Triage };

const USAGE = 'crash [--recover [--from-backup]]';
const EXAMPLE = '/recover crash';

const STEPS = [
  { kind: 'triage', title: 'Triage: pg_controldata, pg_waldump over pg_wal, the archive, the data files', destructive: false },
  { kind: 'start-production', title: 'Start production (crash recovery from its own WAL)', destructive: true },
  { kind: 'select', title: 'Check the base backup and WAL segments in storage', destructive: false },
  { kind: 'stop-production', title: 'Stop production (if it runs)', destructive: true },
  { kind: 'save-local-wal', title: 'Copy the WAL only production has to a safe directory and archive it (checked)', destructive: false },
  { kind: 'move-aside', title: 'Move the damaged data directory aside (kept, not deleted)', destructive: true },
  { kind: 'restore-base-backup', title: 'Restore the newest base backup', destructive: true },
  { kind: 'configure-recovery', title: 'Configure recovery: no target (replay everything)', destructive: false },
  { kind: 'replay-wal', title: 'Replay the archive and the saved WAL to its end, then promote', destructive: true },
  { kind: 'basebackup', title: 'Copy the primary with pg_basebackup; the replica\'s own configuration files put back', destructive: true },
  { kind: 'verify', title: 'Verify production', destructive: false },
] as const;

function parse(tokens: string[]): CrashArgs {
  const hint = `Usage: /recover ${USAGE}\nExample: ${EXAMPLE}`;
  const { positional, flags } = parseFlags(tokens, []);
  const unknown = Object.keys(flags).filter((flag) => flag !== 'recover' && flag !== 'from-backup');
  if (positional.length > 0 || unknown.length > 0) {
    throw new RecoverError('BAD_INPUT', `\`crash\` does not take ${[...positional.map((w) => `"${w}"`), ...unknown.map((f) => `--${f}`)].join(', ')}.`, { hint });
  }
  if (flags['from-backup'] && !flags.recover) throw new RecoverError('BAD_INPUT', '--from-backup chooses how --recover recovers; give it with --recover.', { hint: 'Example: /recover crash --recover --from-backup' });
  return { recover: flags.recover === true, fromBackup: flags['from-backup'] === true };
}

const step_ = (kind: (typeof STEPS)[number]['kind'], extra: Parameters<typeof declaredStep>[2] = {}) => declaredStep(STEPS, kind, extra);

function refuseUnrecoverable(triage: Triage): void {
  if (triage.path === 'rebuild' && triage.control && (STANDBY_STATES as readonly string[]).includes(triage.control.state)) {
    throw new RecoverError('MODE_REFUSED', `${triage.dataDir} is a standby: a rebuild from the backup would promote it into a second primary. Nothing was changed.`, { hint: 'Use /recover crash --recover (without --from-backup): a standby is rebuilt from its primary.' });
  }
  if (triage.path === 'healthy') {
    throw new RecoverError('MODE_REFUSED', `Production runs and its checks found nothing damaged: there is nothing to recover. Nothing was changed.`, { hint: 'Run /recover crash for the triage, or /recover verify for the full checks.' });
  }
}

function rebuildPlan(triage: Triage, facts: CrashFacts & BaseFacts): { steps: Plan['steps']; backupId: string } {
  if (!triage.newestBackup) {
    throw new RecoverError('NO_BASE_BACKUP', 'No usable base backup is in storage: production cannot be rebuilt. Nothing was changed.', { hint: 'If the data files are intact, try `recover crash --recover` without --from-backup (crash recovery).' });
  }
  if (triage.control && triage.newestBackup.timeline !== triage.control.timeline) {
    throw new RecoverError('WAL_GAP', `Production is on timeline ${triage.control.timeline}, the archive's newest restorable timeline is ${triage.newestBackup.timeline}: replay could not reach production's WAL. Nothing was changed.`, {
      hint: 'Archive the timeline history file and WAL of production\'s timeline (or take a base backup on it), then ask again.',
    });
  }
  if (triage.localOnly.gap) {
    throw new RecoverError('WAL_GAP', `WAL segments ${triage.localOnly.gap.from} … ${triage.localOnly.gap.to} are neither archived nor in pg_wal: a rebuild would lose everything after them. Nothing was changed.`, {
      hint: 'Find those segments (a standby, a copy of pg_wal, a storage backup) and put them into the archive, then ask again.',
    });
  }
  const selection = selectRestore(facts.catalog, { kind: 'latest' });
  const estimate = restoreEstimates(selection, facts.rates);
  const tail = triage.localOnly.segments.length;
  return {
    backupId: selection.backup.id,
    steps: [
      step_('select', { title: `Check backup ${selection.backup.id} and ${selection.requiredSegments.length} archived WAL segments`, estimateSeconds: 2 }),
      step_('stop-production', { title: triage.running ? `Stop production ${facts.production.name}` : `Production is down: keep it stopped`, estimateSeconds: 10 }),
      step_('save-local-wal', { title: tail > 0 ? `Copy the ${tail} WAL segment(s) only production has beside its data directory, read them back, archive them (checked)` : 'Check that the archive holds all of production\'s WAL (nothing only local)', estimateSeconds: 5 + tail }),
      step_('move-aside', { estimateSeconds: 1 }),
      step_('restore-base-backup', { title: `Restore base backup ${selection.backup.id} into the production data directory`, estimateSeconds: estimate.base.seconds, estimate: estimate.base.estimate }),
      step_('configure-recovery', { title: 'Configure recovery: no target (never immediate); the saved WAL into pg_wal', estimateSeconds: 1 }),
      step_('replay-wal', { title: `Replay ${selection.requiredSegments.length} archived segments${tail > 0 ? ` and the ${tail} saved` : ''} to the end of WAL, then promote`, estimateSeconds: estimate.replay.seconds, estimate: estimate.replay.estimate }),
      step_('verify', { title: 'Verify production: connection, row counts, newest rows', estimateSeconds: 5 }),
    ],
  };
}

export const crash: RecoverCommand<CrashArgs, CrashFacts, CrashParams, CrashResult | ReplicaResult | TriageResult, CrashResultView> = {
  name: 'crash',
  usage: USAGE,
  example: EXAMPLE,
  description: 'A crashed or damaged production instance: triage (read-only); --recover starts it (crash recovery) or rebuilds it in place keeping every committed transaction, local-only WAL included.',
  home: 'runner',
  schema: schema as z.ZodType<CrashArgs>,
  parse,
  parseCli: (tokens) => withCommonCliFlags(parse, tokens),
  cliHelp: `
The same words as /recover crash in Slack.
  recover crash                              triage, read-only: what is damaged, which WAL exists only in pg_wal, which recovery fits
  recover crash --recover                    the recovery the triage chose (start production, rebuild it in place, or rebuild a standby from its primary)
  recover crash --recover --from-backup      rebuild in place whatever the triage (data files known to be damaged)
  --dry-run  show the plan, change nothing
  --confirm <production name>  run the plan without the prompt (scripts)
  --json     print exactly one JSON object, also on failure
Runs on the database host: RECOVER_SOURCE_DATA_DIR and RECOVER_SOURCE_URL must be set.`,
  risk: (args) => (args.recover ? 'destructive' : 'read-only'),
  runsOn: () => 'database-host',
  confirmation: (args, facts) => (args.recover ? facts.production.name : null),
  async gather(ctx, args) {
    const catalog = await readCatalog(ctx.engine.storage, ctx.engine.clock.now());
    return { catalog, triage: await gatherTriage(ctx.engine, ctx.config, catalog, { forceRebuild: args.fromBackup }) };
  },
  // Triage is a read-only plan whose job reads everything again (the plan may be minutes old):
  // Slack queues it at once, the CLI runs it and prints the triage.
  plan(args, facts): Plan {
    const { triage } = facts;
    const base = { dataDir: triage.dataDir, forceRebuild: args.fromBackup };
    if (!args.recover) {
      return {
        command: 'crash',
        summary: `Crash triage of production ${facts.production.name}: ${triage.path === 'healthy' ? 'nothing to recover' : `recommended: ${triage.path}`}`,
        risk: 'read-only',
        steps: [step_('triage', { estimateSeconds: 5 })],
        facts: triageFacts(triage),
        params: { ...base, action: 'triage', backupId: null } satisfies CrashParams,
      };
    }
    refuseUnrecoverable(triage);
    if (triage.path === 'replica') {
      return {
        command: 'crash',
        summary: `Rebuild the replica ${triage.dataDir} from its primary (pg_basebackup) and reconnect it; its old directory is kept`,
        risk: 'destructive',
        steps: [
          step_('stop-production', { title: triage.running ? 'Stop the replica' : 'The replica is down: keep it stopped', estimateSeconds: 10 }),
          step_('move-aside', { title: "Move the replica's data directory aside (kept, not deleted)", estimateSeconds: 1 }),
          step_('basebackup', { estimateSeconds: 60 }),
          step_('start-production', { title: 'Start the replica', estimateSeconds: 10 }),
          step_('verify', { title: 'Check it streams from its primary', estimateSeconds: 5 }),
        ],
        facts: triageFacts(triage),
        params: { ...base, action: 'replica', backupId: null } satisfies CrashParams,
      };
    }
    if (triage.path === 'start') {
      return {
        command: 'crash',
        summary: `Start production ${facts.production.name} on its own data directory (crash recovery), then verify`,
        risk: 'destructive',
        steps: [step_('start-production', { estimateSeconds: 30 }), step_('verify', { estimateSeconds: 5 })],
        facts: triageFacts(triage),
        params: { ...base, action: 'start', backupId: null } satisfies CrashParams,
      };
    }
    const { steps, backupId } = rebuildPlan(triage, facts);
    return {
      command: 'crash',
      summary: `Rebuild production ${facts.production.name} in place from base backup ${backupId} and all WAL (archive + ${triage.localOnly.segments.length} segment(s) only in pg_wal); the damaged directory is kept`,
      risk: 'destructive',
      steps,
      facts: triageFacts(triage),
      params: { ...base, action: 'rebuild', backupId } satisfies CrashParams,
    };
  },
  steps: STEPS,
  paramsSchema,
  async run(ctx, params) {
    if (ctx.config.source.dataDir !== params.dataDir) {
      throw new RecoverError('CONFIG_INVALID', `The plan acts on ${params.dataDir}, and this host's RECOVER_SOURCE_DATA_DIR is ${ctx.config.source.dataDir ?? 'not set'}. Nothing was done.`, { hint: 'Run it on the database host the plan was made on.' });
    }
    if (params.action === 'triage') {
      const finish = step(ctx.engine, 'triage', 'Triage the crashed instance');
      const triage = await gatherTriage(ctx.engine, ctx.config, await readCatalog(ctx.engine.storage, ctx.engine.clock.now()), { forceRebuild: params.forceRebuild });
      finish(`${triage.path}: ${triage.why}`);
      return { path: 'triage', triage };
    }
    if (params.action === 'start') return startCrashed(ctx.engine, ctx.config, (kind) => ctx.beforeDestructiveStep(kind));
    if (params.action === 'replica') return rebuildReplica(ctx.engine, ctx.config, (kind) => ctx.beforeDestructiveStep(kind));
    return rebuildCrashed(ctx.engine, ctx.config, (kind) => ctx.beforeDestructiveStep(kind), params.backupId ?? undefined);
  },
  resultSchema: crashResultSchema,
  verdict(result) {
    if (result.path === 'triage' || result.path === 'replica' || result.report.ok) return null;
    const failed = result.report.checks.filter((check) => !check.ok).map((check) => check.message);
    return new RecoverError('VERIFY_FAILED', `Production ${result.path === 'start' ? 'started' : 'was rebuilt'}, but verification failed: ${failed.join('; ')}.`, {
      hint: result.path === 'start'
        ? 'Its data files may be damaged. Run `recover crash` again: with the server up the triage reads every table; rebuild with `recover crash --recover --from-backup`.'
        : `Look at the failed checks; the damaged directory is kept at ${result.oldDataDir ?? '?'}.`,
    });
  },
  format: formatCrashResult,
  summary: (_params, result) => crashSummary(result),
};
