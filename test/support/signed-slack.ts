// Signed Slack deliveries for HTTP mode (a slash command, a button click), as Slack sends them.
import { createHmac, randomUUID } from 'node:crypto';
import type { EmulatedMessage, SlackEmulator } from './slack-emulator';

export function signedHeaders(secret: string, body: string): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000);
  return { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': 'v0=' + createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex') };
}

/** A /netdoctor slash command; its response_url lands in emulator.responses under `responseId`. */
export function slashBody(emulator: SlackEmulator, o: { text: string; user: string; channel: string; triggerId?: string; responseId?: string }): string {
  const triggerId = o.triggerId ?? `trig.${randomUUID()}`;
  return new URLSearchParams({ command: '/netdoctor', text: o.text, user_id: o.user, channel_id: o.channel, team_id: 'T0EMUL', trigger_id: triggerId, response_url: emulator.responseUrl(o.responseId ?? triggerId) }).toString();
}

/** A block_actions click on a button of `message`. */
export function clickBody(emulator: SlackEmulator, o: { user: string; channel: string; message: EmulatedMessage; actionId: string; value: string }): string {
  const triggerId = `trig.${randomUUID()}`;
  const payload = {
    type: 'block_actions',
    team: { id: 'T0EMUL' },
    user: { id: o.user },
    api_app_id: 'A0NETDOC',
    channel: { id: o.channel },
    container: { type: 'message', message_ts: o.message.ts, channel_id: o.channel, is_ephemeral: false },
    message: { ts: o.message.ts, thread_ts: o.message.thread_ts, type: 'message', text: o.message.text },
    trigger_id: triggerId,
    response_url: emulator.responseUrl(triggerId),
    actions: [{ type: 'button', action_id: o.actionId, block_id: 'b', value: o.value, action_ts: String(Date.now() / 1000) }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
