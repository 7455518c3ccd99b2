/**
 * `npm run demo -- --web`: the world with a "production" that has just lost rows (the same
 * mistake the pitr story plays), and no story: a person recovers them from the web view —
 * types the command as alice, approves as bob — while the terminal prints what happens.
 */
import { seedProduction } from './demo-pitr.js';
import { openWorld, say, step, webViewUrl } from './demo-common.js';

export async function webStory(): Promise<boolean> {
  const world = await openWorld('workflows:updated_at,workflow_executions:completed_at,users:updated_at');
  step('production: a workload, a base backup, then the mistake');
  const { safePoint } = await seedProduction(world);
  step('your turn, in the browser');
  say(`   1. open ${webViewUrl(world)}`);
  say(`   2. as @alice, type: /recover pitr ${safePoint.toISOString().replace('.000Z', '+00:00')} --db aiagent_prod`);
  say('   3. press "Request approval"; switch "Acting as" to @bob (an approver) and press "Approve"');
  say('   4. watch the progress and the summary thread; try /recover help, /recover status, /recover backups');
  return true;
}
