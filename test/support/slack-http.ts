// Drives the real Bolt app in HTTP mode as Slack would: signed slash commands and block_actions
// clicks, and reads the buttons of the messages the app posted to the emulator.
import { createHmac, randomUUID } from 'node:crypto';
import { type RunningServe, type ServeOptions, startServe } from '../../src/cli/serve-command';
import { KubeApi } from '../../src/cluster/kube-api';
import { loadKubeConfig } from '../../src/cluster/kubeconfig';
import { KubeWriter } from '../../src/cluster/kube-writer';
import { LiveReader } from '../../src/cluster/live-reader';
import type { Config } from '../../src/config';
import { silentLogger } from '../../src/domain/run-context';
import { type EmulatedMessage, SlackEmulator } from './slack-emulator';

/** `netdoctor serve` in HTTP mode against the emulator, reading and writing the cluster of `kubeconfig` as its admin. */
export async function startHttpServe(o: { config: Config; kubeconfig: string; emulator: SlackEmulator; signingSecret: string; cluster: string }): Promise<RunningServe> {
  return startServe({
    config: o.config,
    slack: { mode: 'http', botToken: 'xoxb-test', signingSecret: o.signingSecret, port: 0, host: '127.0.0.1', apiUrl: o.emulator.apiUrl, retries: 0, timeoutMs: 5_000 },
    log: silentLogger,
    ...liveAdapters(o.kubeconfig, o.cluster),
  });
}

/** serve's readerFor/writerFor on the cluster of `kubeconfig` as its admin: a KubeApi per run, closed with its reader or writer. */
export function liveAdapters(kubeconfig: string, cluster: string): Pick<ServeOptions, 'readerFor' | 'writerFor'> {
  const api = async (): Promise<KubeApi> => KubeApi.fromKubeConfig(await loadKubeConfig({ file: kubeconfig, env: {} }));
  return {
    readerFor: async () => {
      const a = await api();
      return Object.assign(new LiveReader(a, { cluster }), { close: () => a.close() });
    },
    writerFor: async () => {
      const a = await api();
      return Object.assign(new KubeWriter(a), { close: () => a.close() });
    },
  };
}

export type Button = { type: 'button'; action_id: string; value: string };
type Block = { type: string; elements?: Button[]; text?: { text: string } };

export const blocksOf = (m: EmulatedMessage): Block[] => SlackEmulator.current(m).blocks as Block[];
export const buttons = (m: EmulatedMessage): Button[] => blocksOf(m).flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []));
export const textOf = (m: EmulatedMessage): string => blocksOf(m).map((b) => b.text?.text ?? '').join('\n');

export class SlackHttpClient {
  constructor(
    private readonly url: string,
    private readonly secret: string,
    private readonly emulator: SlackEmulator,
    private readonly channel: string,
  ) {}

  private signed(body: string): Record<string, string> {
    const ts = Math.floor(Date.now() / 1000);
    const signature = 'v0=' + createHmac('sha256', this.secret).update(`v0:${ts}:${body}`).digest('hex');
    return { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signature };
  }

  /** POSTs a signed body to /slack/events; the HTTP status. */
  async send(body: string): Promise<number> {
    return (await fetch(`${this.url}/slack/events`, { method: 'POST', body, headers: this.signed(body) })).status;
  }

  /** `/netdoctor <text>` from `user`. */
  command(user: string, text: string): Promise<number> {
    return this.send(new URLSearchParams({
      command: '/netdoctor', text, user_id: user, channel_id: this.channel, team_id: 'T0EMUL', trigger_id: `trig.${randomUUID()}`, response_url: this.emulator.responseUrl('cmd'),
    }).toString());
  }

  /** A click on a button of `message` by `user`. */
  click(user: string, message: EmulatedMessage, actionId: string, value: string): Promise<number> {
    const payload = blockActionsPayload(this.emulator, user, message, this.channel, actionId, value);
    return this.send(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
  }
}

/** The block_actions payload Slack posts when `user` clicks a button of `message`. */
export function blockActionsPayload(emulator: SlackEmulator, user: string, message: EmulatedMessage, channel: string, actionId: string, value: string): object {
  const triggerId = `trig.${randomUUID()}`;
  return {
    type: 'block_actions',
    team: { id: 'T0EMUL' },
    user: { id: user },
    api_app_id: 'A0NETDOC',
    channel: { id: channel },
    container: { type: 'message', message_ts: message.ts, channel_id: channel, is_ephemeral: false },
    message: { ts: message.ts, thread_ts: message.thread_ts, type: 'message', text: message.text },
    trigger_id: triggerId,
    response_url: emulator.responseUrl(triggerId),
    actions: [{ type: 'button', action_id: actionId, block_id: 'b', value, action_ts: String(Date.now() / 1000) }],
  };
}
