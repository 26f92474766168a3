// Read authorization per requester, end to end: the real Bolt app (HTTP mode, signed slash
// commands), the real queue and workers, the real apiserver answering SubjectAccessReviews for
// the requesters' mapped identities (RBAC created for real), Slack emulated. With
// NETDOCTOR_READ_ACCESS=checked a diagnosis is shown only to a requester the cluster lets read
// pods and their logs in the namespace, or in a channel granted the namespace; anyone else is
// told what is missing and sees nothing from the cluster.
import { createHmac, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ScriptedKubelet, kubeletTlsFromPkiDir } from '../../cluster/kubelet';
import { type LoadedScenario, loadScenario } from '../../cluster/load-scenario';
import { startServe, type RunningServe } from '../../../src/cli/serve-command';
import { loadConfig } from '../../../src/config';
import { silentLogger } from '../../../src/domain/run-context';
import { type EmulatedMessage, SlackEmulator } from '../../support/slack-emulator';
import { SCENARIO_DIR } from '../../support/scenarios';
import { liveAdapters } from '../../support/slack-http';
import { eventually } from '../../support/eventually';

jest.setTimeout(120_000);

const SECRET = `secret-${randomUUID()}`;
const [OPS, TRITON_ROOM] = ['C0OPS0RA1', 'C0TRITON1'];
const [READER, PODS_ONLY, UNMAPPED] = ['U0READER1', 'U0PODSON1', 'U0NOBODY1'];
const RBAC = `nd-read-access-${process.pid}`;

describe('read authorization of the requester (NETDOCTOR_READ_ACCESS=checked)', () => {
  let emulator: SlackEmulator;
  let serve: RunningServe;
  let kubelet: ScriptedKubelet;
  let scenario: LoadedScenario;
  let url: string;

  const signed = (body: string): Record<string, string> => {
    const ts = Math.floor(Date.now() / 1000);
    return { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': 'v0=' + createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex') };
  };

  /** `/netdoctor triton` by `user` in `channel`; resolves to the run's parent message once it is final. */
  async function diagnose(user: string, channel: string): Promise<EmulatedMessage> {
    const before = emulator.parents(channel).length;
    const body = new URLSearchParams({ command: '/netdoctor', text: 'triton', user_id: user, channel_id: channel, team_id: 'T0EMUL', trigger_id: `trig.${randomUUID()}`, response_url: emulator.responseUrl(`cmd-${randomUUID()}`) }).toString();
    expect((await fetch(`${url}/slack/events`, { method: 'POST', body, headers: signed(body) })).status).toBe(200);
    const parent = await eventually(() => {
      const p = emulator.parents(channel)[before];
      // The parent reads "Diagnosing …" until the run ends (report summary, or why it failed).
      if (!p || /^Diagnosing /.test(SlackEmulator.current(p).text)) throw new Error('run not final yet');
      return p;
    }, 60_000);
    // The next command must start a run of its own, not join this one while it finishes.
    await eventually(async () => {
      const { diagnose: q } = (await serve.producer.queueStatus('lab')).queues;
      expect(q.active + q.waiting + q.delayed).toBe(0);
    });
    return parent;
  }

  /** Everything a message shows: its fallback text and its blocks. */
  const shown = (m: EmulatedMessage): string => {
    const { text, blocks } = SlackEmulator.current(m);
    return `${text}\n${JSON.stringify(blocks)}`;
  };

  beforeAll(async () => {
    const admin = process.env.NETDOCTOR_TEST_KUBECONFIG!;
    emulator = await SlackEmulator.start();
    kubelet = await ScriptedKubelet.start({ kubeconfigPath: admin, tls: kubeletTlsFromPkiDir() });
    scenario = await loadScenario(join(SCENARIO_DIR, 'triton-kube-proxy-config'), { kubelet });
    // reader-alice may read pods and their logs in triton; pods-only-bob only the pods.
    for (const [name, resources, user] of [[`${RBAC}-logs`, ['pods', 'pods/log'], 'reader-alice'], [`${RBAC}-pods`, ['pods'], 'pods-only-bob']] as const) {
      await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace: 'triton' }, rules: [{ apiGroups: [''], resources: [...resources], verbs: ['get'] }] });
      await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name, namespace: 'triton' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }] });
    }
    const config = loadConfig({
      REDIS_URL: process.env.REDIS_URL,
      NETDOCTOR_QUEUE_PREFIX: `ndread${randomUUID().slice(0, 8)}`,
      NETDOCTOR_CLUSTER: 'lab',
      NETDOCTOR_READ_ACCESS: 'checked',
      NETDOCTOR_IDENTITY_MAP: `${READER}=reader-alice,${PODS_ONLY}=pods-only-bob`,
      NETDOCTOR_CHANNEL_NAMESPACES: `${TRITON_ROOM}=triton`,
      SLACK_MODE: 'http',
    });
    serve = await startServe({
      config,
      slack: { mode: 'http', botToken: 'xoxb-test', signingSecret: SECRET, port: 0, host: '127.0.0.1', apiUrl: emulator.apiUrl, retries: 0, timeoutMs: 5_000 },
      log: silentLogger,
      ...liveAdapters(admin, 'lab'),
    });
    url = `http://127.0.0.1:${serve.port}`;
  });

  afterAll(async () => {
    await serve?.stop();
    await emulator?.close();
    for (const name of [`${RBAC}-logs`, `${RBAC}-pods`]) {
      for (const kind of ['RoleBinding', 'Role']) await kubelet?.rest.delete({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name, namespace: 'triton' } }).catch(() => undefined);
    }
    await scenario?.unload();
    await kubelet?.stop();
  });

  it('shows the diagnosis to a requester whose Kubernetes identity may get pods and pods/log there', async () => {
    const parent = await diagnose(READER, OPS);
    expect(shown(parent)).not.toMatch(/not shown/);
    await eventually(() => expect(emulator.replies(parent.ts).map(shown).join('\n')).toMatch(/kube-proxy/));
  });

  it('refuses a requester who may not read the logs, and one without a mapped identity, showing nothing', async () => {
    for (const [user, missing] of [
      [PODS_ONLY, 'Kubernetes user pods-only-bob may not get pods/log in namespace triton'],
      [UNMAPPED, 'you have no Kubernetes identity mapped (NETDOCTOR_IDENTITY_MAP)'],
    ] as const) {
      const parent = await diagnose(user, OPS);
      const text = shown(parent);
      expect(text).toContain(`not shown: ${missing}, and this channel is not granted namespace triton (NETDOCTOR_CHANNEL_NAMESPACES)`);
      expect(text).not.toMatch(/kube-proxy/);
      expect(emulator.replies(parent.ts)).toEqual([]);
    }
  });

  it('shows it to anyone in a channel granted the namespace', async () => {
    const parent = await diagnose(UNMAPPED, TRITON_ROOM);
    expect(shown(parent)).not.toMatch(/not shown/);
    await eventually(() => expect(emulator.replies(parent.ts).map(shown).join('\n')).toMatch(/kube-proxy/));
  });
});
