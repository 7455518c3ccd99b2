/**
 * `/recover georestore <new-server-name>` and `recover georestore …` (issue 21, Azure Database
 * for PostgreSQL flexible server): create a NEW server in the paired region (RECOVER_AZURE_DR_LOCATION)
 * from production's geo-redundant backup (RECOVER_AZURE_PRIMARY_SERVER), as of now or --at.
 * Refused unless production was created with geo-redundant backup (then: /recover pitr from our
 * own backups in the other region), never over an existing server, and a creation already under
 * way is followed, never sent twice.
 */
import { z } from 'zod';
import { gatherGeoRestore, GEORESTORE_STEPS, runGeoRestore, type GeoRestoreFacts, type GeoRestoreResult } from '../../src/engine/azure/georestore.js';
import type { RecoverCommand } from '../types.js';
import { withCommonCliFlags } from '../words.js';
import { GEORESTORE_EXAMPLE, GEORESTORE_USAGE, georestoreArgs, georestoreSchema, type GeorestoreArgs } from './args.js';
import { georestoreParamsSchema, georestorePlan } from './plan.js';

const resultSchema = z.object({
  server: z.string().catch(''),
  location: z.string().catch(''),
  state: z.string().catch(''),
  fqdn: z.string().nullable().catch(null),
  pointInTime: z.string().catch(''),
  followed: z.enum(['created', 'resumed-poller', 'waited-on-server']).catch('created'),
  seconds: z.number().nullable().catch(null),
});
type Shown = z.infer<typeof resultSchema>;

const CLI_HELP = `
The same words as /recover georestore in Slack: a NEW flexible server in RECOVER_AZURE_DR_LOCATION from the
geo-redundant backup of RECOVER_AZURE_PRIMARY_SERVER.
  --at <time with offset>  the point in time restored to (between the earliest restore point and now); default now
  --dry-run  show the plan, create nothing      --json  one JSON object
Exit 3 (GEO_RESTORE_REFUSED): no geo-redundant backup (use /recover pitr from our own backups), the name is taken, the time is outside the window.`;

export function georestoreLines(result: Shown): string[] {
  const how = result.followed === 'created' ? 'created' : result.followed === 'resumed-poller' ? "created (polling resumed from the earlier job's operation)" : 'created (followed by reading the server)';
  return [
    `${result.server} ${how} in ${result.location} from the geo-redundant backup as of ${result.pointInTime}: ${result.state}${result.seconds === null ? '' : ` after ${Math.round(result.seconds)} s`}.`,
    `Address: ${result.fqdn ?? 'see the Azure portal'}. Add its firewall rules or networking, then point the application at it.`,
    'It is a standalone server: the old primary, if it comes back, is not replicating to it.',
  ];
}

export const georestore: RecoverCommand<GeorestoreArgs, GeoRestoreFacts, z.infer<typeof georestoreParamsSchema>, GeoRestoreResult, Shown> = {
  name: 'georestore',
  usage: GEORESTORE_USAGE,
  example: GEORESTORE_EXAMPLE,
  description: 'Azure flexible server: create a NEW server in the paired region from production\'s geo-redundant backup (only if it has one).',
  home: 'runner',
  schema: georestoreSchema,
  parse: georestoreArgs,
  parseCli: (tokens) => withCommonCliFlags(georestoreArgs, tokens),
  cliHelp: CLI_HELP,
  risk: () => 'side-copy',
  confirmation: () => null,
  gather: (ctx, args) => gatherGeoRestore(ctx.config, args.server, ctx.azureCredential),
  plan: georestorePlan,
  steps: GEORESTORE_STEPS,
  paramsSchema: georestoreParamsSchema,
  run: (ctx, params) => runGeoRestore(ctx.engine, ctx.config, params, ctx.operations, ctx.azureCredential),
  resultSchema,
  format: (result) => georestoreLines(resultSchema.parse(result)).join('\n'),
  summary: (_params, result) => {
    const shown = resultSchema.safeParse(result);
    return { target: null, to: null, recovery: null, followUps: shown.success && result ? georestoreLines(shown.data) : [] };
  },
};
