/** The Slack-facing bot: Bolt app, approval flow, progress renderer. See bot.ts. */
export { createBot, type CreateBotOptions, type RecoverBot } from './bot.js';
export { UpdateScheduler, DEFAULT_UPDATE_BUDGET, type UpdateBudget, type OutboundUpdate, type SchedulerTimers } from './io/scheduler.js';
export { openConnections, warmConnectionCount } from './warm-up.js';
