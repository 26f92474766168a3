import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { NetdoctorError } from '../domain/errors';
import { PLAN_ID } from '../domain/plan';
import type { PlanAction, PlanClick } from '../domain/ports';
import type { Logger } from '../domain/run-context';
import { noticeMessage } from './blocks';
import { mentionUser } from './escape';
import { PLAN_ACTIONS } from './ids';

/** What the button handlers need; injected by the composition root (serve), so Slack code never touches plans. */
export interface PlanActionDeps {
  /** The cluster a plan id belongs to, or undefined for unknown / expired ids. */
  clusterOf(planId: string): Promise<string | undefined>;
  decide(click: PlanClick): Promise<{ accepted: boolean; message: string; decidedBy?: string }>;
  /** The clicking user's Slack user groups, when group approvers are configured. */
  groupsOf?(user: string): Promise<string[]>;
  log: Logger;
}


/** Registers Approve / Reject / Rollback. Handlers ack at once, then hand the ids over; a refusal is told to the clicker alone (ephemeral). */
export function registerPlanActions(app: App, deps: PlanActionDeps): void {
  for (const action of Object.keys(PLAN_ACTIONS) as PlanAction[]) {
    app.action<BlockAction<ButtonAction>>(PLAN_ACTIONS[action], async ({ ack, body, action: button, respond }) => {
      await ack();
      const tell = (why: string): Promise<unknown> =>
        respond({ response_type: 'ephemeral', replace_original: false, ...noticeMessage(`:no_entry: ${why}`) }).catch((err: unknown) => deps.log.warn({ err }, 'could not answer a plan click'));
      const planId = button.value ?? '';
      if (!PLAN_ID.test(planId)) {
        await tell('this button does not carry a netdoctor plan id; nothing was done');
        return;
      }
      const cluster = await deps.clusterOf(planId);
      const messageTs = body.message?.ts;
      if (!cluster || !body.channel?.id || !messageTs) {
        await tell('this fix is unknown or expired — re-run /netdoctor for a fresh diagnosis');
        return;
      }
      try {
        const decision = await deps.decide({
          action,
          planId,
          cluster,
          user: body.user.id,
          userGroups: deps.groupsOf ? await deps.groupsOf(body.user.id) : [],
          message: { channel: body.channel.id, messageTs, ...(body.message?.thread_ts ? { parentTs: String(body.message.thread_ts) } : {}) },
        });
        if (!decision.accepted) await tell(decision.decidedBy ? `${decision.message} by ${mentionUser(decision.decidedBy)}` : decision.message);
      } catch (e) {
        await tell(e instanceof NetdoctorError ? e.message : 'netdoctor could not record the decision (the operator\'s logs have the details)');
        throw e;
      }
    });
  }
}
