/**
 * npm run demo [-- rows | pitr] [--web]: a story of recover-bot played in a Slack incident
 * channel, printed as it happens. Everything runs on this machine (throwaway PostgreSQL clusters,
 * Azurite, the Slack stand-in, the bot and a runner) and is removed at the end, also on Ctrl-C;
 * the exit code is non-zero when the story's proof fails.
 *   rows (default): the runbook's §8.1 — locate the DELETE, restore the rows into production
 *                   (scripts/demo-rows.ts).
 *   pitr:           /recover pitr to a side instance, with refused approvals (scripts/demo-pitr.ts).
 *   --web:          the channel as a web page (the URL is printed); after the story (none when
 *                   only --web is given: scripts/demo-web.ts) the world stays up until Ctrl-C.
 */
import { play, say } from './demo-common.js';

const args = process.argv.slice(2);
const web = args.includes('--web');
const unknown = args.filter((a) => a.startsWith('-') && a !== '--web');
const story = args.find((a) => !a.startsWith('-')) ?? (web ? 'web' : 'rows');
const usage = `Usage: npm run demo            (§8.1: rows back into production)
       npm run demo -- pitr    (point-in-time recovery to a side instance)
       npm run demo -- --web   (the channel as a web page: recover by hand, in a browser; also after a story: -- pitr --web)`;

if (unknown.length > 0) {
  say(`Unknown option ${unknown.join(' ')}. ${usage}`);
  process.exitCode = 2;
} else if (story === 'pitr') {
  const { pitrStory } = await import('./demo-pitr.js');
  await play(pitrStory, { web });
} else if (story === 'rows') {
  const { rowsStory } = await import('./demo-rows.js');
  await play(rowsStory, { web });
} else if (story === 'web') {
  const { webStory } = await import('./demo-web.js');
  await play(webStory, { web: true });
} else {
  say(`Unknown story "${story}". ${usage}`);
  process.exitCode = 2;
}
