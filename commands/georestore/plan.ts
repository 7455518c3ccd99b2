/**
 * The plan of `/recover georestore` (pure): the source's facts, the refusals (GEO_RESTORE_REFUSED,
 * exit 3, nothing created) and the request that will be sent. Refused: the source cannot be read,
 * was not created with geo-redundant backup, the time is outside its earliest restore point / now,
 * or a server of the new name exists and is not being created (never created over).
 */
import { z } from 'zod';
import { parseTargetTime } from '../../src/catalog/targets.js';
import { serverResourceId } from '../../src/engine/azure/client.js';
import { GEORESTORE_STEPS, type GeoRestoreFacts, type GeoRestoreParams } from '../../src/engine/azure/georestore.js';
import { RecoverError } from '../../src/errors.js';
import type { Plan } from '../../src/types.js';
import { declaredStep, type BaseFacts } from '../types.js';
import type { GeorestoreArgs } from './args.js';

export const georestoreParamsSchema = z.object({
  sourceId: z.string().min(1),
  target: z.object({ resourceGroup: z.string().min(1), name: z.string().min(1), location: z.string().min(1) }),
  pointInTime: z.string().min(1),
  mode: z.enum(['create', 'resume']),
  pollSeconds: z.number().int().positive(),
}) satisfies z.ZodType<GeoRestoreParams>;

const refuse = (message: string, hint: string) => new RecoverError('GEO_RESTORE_REFUSED', `${message} Nothing was created.`, { hint });
const PITR_INSTEAD = 'restore from our own blob backups instead: /recover pitr <time> on a runner of the other region (its RECOVER_POOL), which needs no Azure geo-backup';

/** States of a server being created: a server in one of them is followed, never created over. */
const CREATING = /provisioning|creating|updating|starting/i;

export function georestorePlan(args: GeorestoreArgs, facts: GeoRestoreFacts & BaseFacts): Plan {
  const { source, target, settings } = facts;
  const sourceName = settings.primaryServer;
  if (!source) throw refuse(`The source server ${sourceName} (RECOVER_AZURE_PRIMARY_SERVER) does not exist in ${settings.resourceGroup}.`, `Check RECOVER_AZURE_PRIMARY_SERVER and RECOVER_AZURE_RESOURCE_GROUP; if it was deleted, ${PITR_INSTEAD}.`);
  if (source.geoRedundantBackup !== 'Enabled') {
    throw refuse(
      `${sourceName} was created without geo-redundant backup (backup.geoRedundantBackup is ${source.geoRedundantBackup ?? 'not reported'}): Azure has no copy of its backups in the paired region to geo-restore from.`,
      `Geo-redundant backup can only be chosen when a server is created. Now, ${PITR_INSTEAD}. For the future, create production with geo-redundant backup enabled.`,
    );
  }
  const at = args.at ? parseTargetTime(args.at).notBefore : facts.now;
  if (at.getTime() > facts.now.getTime()) throw refuse(`--at ${args.at} is in the future.`, 'Give a time between the earliest restore point and now, or no --at for the newest.');
  if (source.earliestRestore && at.getTime() < source.earliestRestore.getTime()) {
    throw refuse(`--at ${args.at ?? at.toISOString()} is before ${sourceName}'s earliest restore point ${source.earliestRestore.toISOString()}.`, `Give a time between ${source.earliestRestore.toISOString()} and now; older points are only in our own backups (/recover pitr).`);
  }
  let mode: GeoRestoreParams['mode'] = 'create';
  if (target) {
    if (!CREATING.test(target.state)) {
      throw refuse(`A server named ${args.server} already exists in ${settings.drResourceGroup} (${target.location}, ${target.state}): a geo-restore never creates over an existing server.`, `Choose another name; if ${args.server} is the geo-restore of an earlier job, it is done: use it (${target.fqdn ?? 'see the portal'}).`);
    }
    mode = 'resume';
  }
  const location = target?.location ?? settings.drLocation;
  if (location === source.location) throw refuse(`RECOVER_AZURE_DR_LOCATION is ${location}, the source's own region: a geo-restore goes to the paired region.`, 'Set RECOVER_AZURE_DR_LOCATION to the paired region (e.g. eastus → westus).');
  const stepTitle = mode === 'create'
    ? `Create ${args.server} in ${location} from ${sourceName}'s geo-redundant backup as of ${at.toISOString()} (PUT, createMode GeoRestore), polled to the end`
    : `Follow the creation of ${args.server} already under way (no second create: resume the earlier job's poller, or wait on the server)`;
  return {
    command: 'georestore',
    summary: mode === 'create' ? `Geo-restore ${sourceName} into a NEW server ${args.server} in ${location}` : `Follow the geo-restore of ${args.server} already under way`,
    risk: 'side-copy',
    steps: [declaredStep(GEORESTORE_STEPS, 'geo-restore', { title: stepTitle }), declaredStep(GEORESTORE_STEPS, 'check-server')],
    facts: {
      Source: `${sourceName} (${source.location}, ${source.state}, ${source.role}${source.version ? `, PostgreSQL ${source.version}` : ''}${source.sku ? `, ${source.sku}` : ''})`,
      'Geo-redundant backup': `${source.geoRedundantBackup}; earliest restore point ${source.earliestRestore ? source.earliestRestore.toISOString() : 'not reported'}`,
      'Restore to': `${at.toISOString()}${args.at ? '' : ' (now: the newest the geo-redundant copy holds; it trails production by up to an hour)'}`,
      'New server': mode === 'create' ? `${args.server} in ${location}, resource group ${settings.drResourceGroup} (the name is free)` : `${args.server} exists and is ${target!.state}: being created already, followed, never created again`,
      Afterwards: 'the new server is a standalone primary with the source\'s settings; point the application at it and add firewall rules or networking as needed',
    },
    params: {
      sourceId: serverResourceId(settings.subscriptionId, settings.resourceGroup, sourceName),
      target: { resourceGroup: settings.drResourceGroup, name: args.server, location },
      pointInTime: at.toISOString(),
      mode,
      pollSeconds: settings.pollSeconds,
    } satisfies GeoRestoreParams,
  };
}
