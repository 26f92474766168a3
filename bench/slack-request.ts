// A slash command as Slack sends it to the bench's harnesses (form body, v0 signature).
import { randomUUID } from 'node:crypto';
import { signedHeaders } from '../test/support/signed-slack';

export const BENCH_CHANNEL = 'C0BENCH01';

export interface SignedCommand {
  body: string;
  headers: Record<string, string>;
  triggerId: string;
}

/** `responseUrl` is given the command's trigger id, so each command's response_url is its own. */
export function signedCommand(secret: string, text: string, responseUrl: (triggerId: string) => string): SignedCommand {
  const triggerId = `trig.${randomUUID()}`;
  const body = new URLSearchParams({
    token: 'deprecated', team_id: 'T0BENCH', team_domain: 'bench', channel_id: BENCH_CHANNEL, channel_name: 'ops', user_id: 'U0BENCH01', user_name: 'bench',
    command: '/netdoctor', text, api_app_id: 'A0NETDOC', response_url: responseUrl(triggerId), trigger_id: triggerId,
  }).toString();
  return { body, triggerId, headers: signedHeaders(secret, body) };
}
