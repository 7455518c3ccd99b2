/**
 * npm run demo [-- rows | pitr]: a story of recover-bot played in a Slack incident channel,
 * printed as it happens. Everything runs on this machine (throwaway PostgreSQL clusters,
 * Azurite, the Slack stand-in, the bot and a runner) and is removed at the end, also on Ctrl-C;
 * the exit code is non-zero when the story's proof fails.
 *   rows (default): the runbook's §8.1 — locate the DELETE, restore the rows into production
 *                   (scripts/demo-rows.ts).
 *   pitr:           /recover pitr to a side instance, with refused approvals (scripts/demo-pitr.ts).
 */
import { play, say } from './demo-common.js';

const story = process.argv[2] ?? 'rows';
if (story === 'pitr') {
  const { pitrStory } = await import('./demo-pitr.js');
  await play(pitrStory);
} else if (story === 'rows') {
  const { rowsStory } = await import('./demo-rows.js');
  await play(rowsStory);
} else {
  say(`Unknown story "${story}". Usage: npm run demo            (§8.1: rows back into production)\n       npm run demo -- pitr    (point-in-time recovery to a side instance)`);
  process.exitCode = 2;
}
