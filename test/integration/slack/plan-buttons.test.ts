// The plan buttons end to end: the real Bolt app (HTTP mode, signed requests), the real queue and
// workers, the real apiserver (kube-proxy lab), Slack emulated. The thread reply shows the
// server-side dry-run diff with Approve / Reject; clicks are signed block_actions payloads.
import { createHmac, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ScriptedKubelet, kubeletTlsFromPkiDir } from '../../cluster/kubelet';
import { type LoadedScenario, loadScenario } from '../../cluster/load-scenario';
import { startServe, type RunningServe } from '../../../src/cli/serve-command';
import { KubeApi } from '../../../src/cluster/kube-api';
import { loadKubeConfig } from '../../../src/cluster/kubeconfig';
import { KubeWriter } from '../../../src/cluster/kube-writer';
import { LiveReader } from '../../../src/cluster/live-reader';
import type { RawObject } from '../../../src/cluster/snapshot';
import { loadConfig } from '../../../src/config';
import { PLAN_ACTIONS } from '../../../src/domain/ports';
import { silentLogger } from '../../../src/domain/run-context';
import { type EmulatedMessage, SlackEmulator } from '../../support/slack-emulator';
import { rollOutDaemonSet } from '../../support/rollout';
import { SCENARIO_DIR } from '../../support/scenarios';
import { eventually } from '../../support/eventually';

jest.setTimeout(120_000);

const SECRET = `secret-${randomUUID()}`;
const CHANNEL = 'C0OPS0001';
const [REQUESTER, BOB] = ['U0ALICE01', 'U0BOB0001'];
const DS_PATH = '/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy';

type Button = { type: 'button'; action_id: string; value: string };
type Block = { type: string; block_id?: string; elements?: Button[]; text?: { text: string } };

describe('plan buttons in Slack', () => {
  let emulator: SlackEmulator;
  let serve: RunningServe;
  let kubelet: ScriptedKubelet;
  let scenario: LoadedScenario;
  let url: string;

  const signed = (body: string): Record<string, string> => {
    const ts = Math.floor(Date.now() / 1000);
    return { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': 'v0=' + createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex') };
  };
  const send = async (body: string): Promise<number> => (await fetch(`${url}/slack/events`, { method: 'POST', body, headers: signed(body) })).status;
  const blocksOf = (m: EmulatedMessage): Block[] => SlackEmulator.current(m).blocks as Block[];
  const buttons = (m: EmulatedMessage): Button[] => blocksOf(m).flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []));
  const textOf = (m: EmulatedMessage): string => blocksOf(m).map((b) => b.text?.text ?? '').join('\n');


  async function click(user: string, message: EmulatedMessage, actionId: string, value: string): Promise<number> {
    const triggerId = `trig.${randomUUID()}`;
    const payload = {
      type: 'block_actions',
      team: { id: 'T0EMUL' },
      user: { id: user },
      api_app_id: 'A0NETDOC',
      channel: { id: CHANNEL },
      container: { type: 'message', message_ts: message.ts, channel_id: CHANNEL, is_ephemeral: false },
      message: { ts: message.ts, thread_ts: message.thread_ts, type: 'message', text: message.text },
      trigger_id: triggerId,
      response_url: emulator.responseUrl(triggerId),
      actions: [{ type: 'button', action_id: actionId, block_id: 'b', value, action_ts: String(Date.now() / 1000) }],
    };
    return send(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
  }

  beforeAll(async () => {
    const admin = process.env.NETDOCTOR_TEST_KUBECONFIG!;
    emulator = await SlackEmulator.start();
    kubelet = await ScriptedKubelet.start({ kubeconfigPath: admin, tls: kubeletTlsFromPkiDir() });
    scenario = await loadScenario(join(SCENARIO_DIR, 'triton-kube-proxy-config'), { kubelet });
    await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'nd-buttons-ds' }, rules: [{ apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get', 'patch'] }] }).catch(() => undefined);
    await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'nd-buttons-ds' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'nd-buttons-ds' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }] }).catch(() => undefined);
    const config = loadConfig({
      REDIS_URL: process.env.REDIS_URL,
      NETDOCTOR_QUEUE_PREFIX: `ndbuttons${randomUUID().slice(0, 8)}`,
      NETDOCTOR_CLUSTER: 'lab',
      NETDOCTOR_APPROVERS: `${REQUESTER},${BOB}`,
      NETDOCTOR_IDENTITY_MAP: `${REQUESTER}=alice,${BOB}=alice`,
      NETDOCTOR_VERIFY_TIMEOUT_SECONDS: '60',
      SLACK_MODE: 'http',
    });
    const api = async (): Promise<KubeApi> => KubeApi.fromKubeConfig(await loadKubeConfig({ file: admin, env: {} }));
    serve = await startServe({
      config,
      slack: { mode: 'http', botToken: 'xoxb-test', signingSecret: SECRET, port: 0, host: '127.0.0.1', apiUrl: emulator.apiUrl, retries: 0, timeoutMs: 5_000 },
      log: silentLogger,
      readerFor: async () => {
        const a = await api();
        return Object.assign(new LiveReader(a, { cluster: 'lab' }), { close: () => a.close() });
      },
      writerFor: async () => {
        const a = await api();
        return Object.assign(new KubeWriter(a), { close: () => a.close() });
      },
    });
    url = `http://127.0.0.1:${serve.port}`;
  });

  afterAll(async () => {
    await serve?.stop();
    await emulator?.close();
    await scenario?.unload();
    await kubelet?.stop();
  });

  it('shows the dry-run diff with Approve / Reject, refuses the requester, applies on an approver\'s click and offers Rollback', async () => {
    const body = new URLSearchParams({ command: '/netdoctor', text: 'triton', user_id: REQUESTER, channel_id: CHANNEL, team_id: 'T0EMUL', trigger_id: `trig.${randomUUID()}`, response_url: emulator.responseUrl('cmd') }).toString();
    expect(await send(body)).toBe(200);
    const reply = await eventually(() => {
      const parent = emulator.parents(CHANNEL)[0]!;
      const r = emulator.replies(parent.ts).find((m) => buttons(m).length > 0);
      if (!r) throw new Error('no reply with buttons yet');
      return r;
    }, 60_000);
    const [approve, reject] = buttons(reply);
    expect([approve?.action_id, reject?.action_id]).toEqual([PLAN_ACTIONS.approve, PLAN_ACTIONS.reject]);
    expect(approve!.value).toMatch(/^plan-[0-9a-f]{16}$/);
    expect(textOf(reply)).toContain('--config=/var/lib/kube-proxy/config.conf');
    expect(textOf(reply)).toMatch(/Server-side dry run/);

    // The requester may not approve their own diagnosis's fix: refused in the thread and to them.
    expect(await click(REQUESTER, reply, PLAN_ACTIONS.approve, approve!.value)).toBe(200);
    await eventually(() => expect(emulator.replies(reply.thread_ts!).map((m) => m.text).join('\n')).toMatch(/cannot approve its fix/));
    // A forged button value changes nothing.
    expect(await click(BOB, reply, PLAN_ACTIONS.approve, 'plan-ffffffffffffffff')).toBe(200);
    await eventually(() => expect(JSON.stringify(emulator.responses)).toMatch(/unknown or expired/));
    const before = await kubelet.rest.request<RawObject>('GET', DS_PATH);

    expect(await click(BOB, reply, PLAN_ACTIONS.approve, approve!.value)).toBe(200);
    await eventually(async () => expect((await kubelet.rest.request<RawObject>('GET', DS_PATH)).metadata!.generation).not.toBe(before.metadata!.generation));
    await rollOutDaemonSet(kubelet, 'kube-system', 'kube-proxy');
    const done = await eventually(() => {
      const m = emulator.replies(reply.thread_ts!).find((r) => r.ts === reply.ts)!;
      if (!/fixed —/.test(textOf(m))) throw new Error('not verified yet');
      return m;
    });
    expect(buttons(done).map((b) => b.action_id)).toEqual([PLAN_ACTIONS.rollback]);
    expect(textOf(done)).toMatch(/applied\* by <@U0BOB0001>/);
  });
});
