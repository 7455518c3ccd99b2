/**
 * Approval messages a bot posted but stopped before saving where (issue 18): their buttons are
 * live, yet nothing would ever update them. On start (and on every poll until it worked) the
 * bot looks for each one by its key, posts it if Slack never got it and the request still
 * waits for approvals, saves its ts on the request and brings it to the current state.
 */
import { getCurrentPlan, getRequest, listUnlinkedApprovalPosts, saveSlackPostTs, setRequestSlackRefs } from '../../control/index.js';
import { approvalMessage } from '../views/approval.js';
import { showPreview } from './plan-watcher.js';
import { approvalInput, refreshApproval, type FlowDeps } from './approval-flow.js';

/** Links (finds or posts, then updates) every approval message whose ts the request lacks; returns how many. */
export async function linkApprovalPosts(deps: FlowDeps): Promise<number> {
  let linked = 0;
  for (const post of await listUnlinkedApprovalPosts(deps.control)) {
    const requestId = post.requestId;
    if (!requestId) continue;
    await deps.locks.serial(requestId, async () => {
      const request = await getRequest(deps.control, requestId);
      const plan = await getCurrentPlan(deps.control, requestId);
      if (!request || !plan || request.slackRefs.approvalTs) return;
      const channel = post.channel;
      const waiting = request.status === 'pending' && request.approvalRequestedAt !== null;
      let ts = post.ts ?? (await deps.out.findPosted(channel, undefined, post.key, post.createdAt));
      if (ts) ts = await saveSlackPostTs(deps.control, post.key, ts);
      else if (waiting) {
        const message = approvalMessage(await approvalInput(deps, request, plan, { kind: 'open' }));
        ts = await deps.out.post(channel, message, undefined, { key: post.key, kind: 'approval', requestId });
      }
      if (!ts) return; // never posted and no longer waiting: nothing shows live buttons
      await setRequestSlackRefs(deps.control, requestId, { approvalTs: ts });
      deps.log.info({ requestId, ts }, 'linked an approval message posted before a restart');
      if (waiting) showPreview(deps, { ...request, slackRefs: { ...request.slackRefs, approvalTs: ts } }, plan, { kind: 'approval-requested', by: request.requesterId });
      await refreshApproval(deps, requestId);
      linked += 1;
    });
  }
  return linked;
}
