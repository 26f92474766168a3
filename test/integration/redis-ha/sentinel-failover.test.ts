// Redis Sentinel failover under load: a primary, one replica and three Sentinels (real
// redis-server processes of the test's own), `serve` (HTTP mode: Bolt, queue, workers) against
// the Slack emulator and the real apiserver. With diagnoses queued (their cluster reads held)
// and an approved fix applied and waiting for its rollout, the primary is SIGKILLed. Then:
// every queued diagnosis completes and posts once, the fix is PATCHed at most once (and the
// approver hears how it ended), and `serve` keeps acknowledging commands. The failover window
// (first failed command to the first one served after it) is measured and printed, not asserted.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScriptedKubelet, kubeletTlsFromPkiDir } from '../../cluster/kubelet';
import { type LoadedScenario, loadScenario } from '../../cluster/load-scenario';
import { startServe, type RunningServe } from '../../../src/cli/serve-command';
import { KubeApi } from '../../../src/cluster/kube-api';
import { loadKubeConfig } from '../../../src/cluster/kubeconfig';
import { KubeWriter } from '../../../src/cluster/kube-writer';
import { LiveReader } from '../../../src/cluster/live-reader';
import { loadConfig } from '../../../src/config';
import { silentLogger } from '../../../src/domain/run-context';
import { jobIdFrom } from '../../../src/queue/jobs';
import { PLAN_ACTIONS } from '../../../src/slack/ids';
import { startCountingProxy } from '../../support/counting-proxy';
import { eventually } from '../../support/eventually';
import { SENTINEL_GROUP, SentinelLab } from '../../support/redis-ha';
import { rollOutDaemonSet } from '../../support/rollout';
import { SCENARIO_DIR } from '../../support/scenarios';
import { clickBody, signedHeaders, slashBody } from '../../support/signed-slack';
import { type EmulatedMessage, SlackEmulator } from '../../support/slack-emulator';

jest.setTimeout(240_000);

const SECRET = `secret-${randomUUID()}`;
const CHANNEL = 'C0OPS0001';
const [REQUESTER, BOB] = ['U0ALICE01', 'U0BOB0001'];
const QUEUED = ['kube-system', 'default', 'kube-public', 'kube-node-lease'];
/** Probes join the held kube-system run: each one enqueues through Redis, none posts a message. */
const PROBE_NAMESPACE = 'kube-system';
const MAX_PROBES = 240;
const PROBE_EVERY_MS = 250;

type Button = { type: 'button'; action_id: string; value: string };
type Block = { type: string; elements?: Button[]; text?: { text: string } };

interface Probe {
  id: string;
  sentAt: number;
  acked: boolean;
}

describe('Redis Sentinel failover while serving', () => {
  let lab: SentinelLab;
  let emulator: SlackEmulator;
  let serve: RunningServe | undefined;
  let kubelet: ScriptedKubelet;
  let scenario: LoadedScenario;
  let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
  let url: string;
  let release: () => void = () => undefined;
  let held: Promise<void> | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'nd-failover-'));

  const send = async (body: string): Promise<number> => (await fetch(`${url}/slack/events`, { method: 'POST', body, headers: signedHeaders(SECRET, body), signal: AbortSignal.timeout(3000) })).status;
  const blocksOf = (m: EmulatedMessage): Block[] => SlackEmulator.current(m).blocks as Block[];
  const buttons = (m: EmulatedMessage): Button[] => blocksOf(m).flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []));
  const textOf = (m: EmulatedMessage): string => blocksOf(m).map((b) => b.text?.text ?? '').join('\n');
  const patches = (): number => proxy.mutations().filter((r) => r.method === 'PATCH').length;
  const responseTo = (id: string): string => JSON.stringify(emulator.responses.filter((r) => r.id === id).map((r) => r.body));

  beforeAll(async () => {
    const admin = process.env.NETDOCTOR_TEST_KUBECONFIG!;
    lab = await SentinelLab.start();
    emulator = await SlackEmulator.start();
    proxy = await startCountingProxy(admin);
    const proxyKubeconfig = join(dir, 'proxy.kubeconfig');
    writeFileSync(proxyKubeconfig, proxy.kubeconfig);
    kubelet = await ScriptedKubelet.start({ kubeconfigPath: admin, tls: kubeletTlsFromPkiDir() });
    scenario = await loadScenario(join(SCENARIO_DIR, 'triton-kube-proxy-config'), { kubelet });
    await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'nd-failover-ds' }, rules: [{ apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get', 'patch'] }] }).catch(() => undefined);
    await kubelet.rest.create({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'nd-failover-ds' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'nd-failover-ds' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }] }).catch(() => undefined);
    const config = loadConfig({
      REDIS_SENTINELS: lab.sentinelList,
      REDIS_SENTINEL_NAME: SENTINEL_GROUP,
      NETDOCTOR_QUEUE_PREFIX: `ndfo${randomUUID().slice(0, 8)}`,
      NETDOCTOR_CLUSTER: 'lab',
      NETDOCTOR_APPROVERS: `${REQUESTER},${BOB}`,
      NETDOCTOR_PLAN_KEY: 'integration-test-plan-key-0123456789abcdef',
      NETDOCTOR_IDENTITY_MAP: `${REQUESTER}=alice,${BOB}=alice`,
      NETDOCTOR_VERIFY_TIMEOUT_SECONDS: '120',
      SLACK_MODE: 'http',
    });
    const api = async (path: string): Promise<KubeApi> => KubeApi.fromKubeConfig(await loadKubeConfig({ file: path, env: {} }));
    serve = await startServe({
      config,
      slack: { mode: 'http', botToken: 'xoxb-test', signingSecret: SECRET, port: 0, host: '127.0.0.1', apiUrl: emulator.apiUrl, retries: 2, timeoutMs: 5_000 },
      log: silentLogger,
      // A diagnosis reads the real cluster, once the test lets it (`held` keeps runs queued and in flight).
      readerFor: async () => {
        await held;
        const a = await api(admin);
        return Object.assign(new LiveReader(a, { cluster: 'lab' }), { close: () => a.close() });
      },
      writerFor: async () => {
        const a = await api(proxyKubeconfig);
        return Object.assign(new KubeWriter(a), { close: () => a.close() });
      },
    });
    url = `http://127.0.0.1:${serve.port}`;
  });

  afterAll(async () => {
    release();
    await serve?.stop();
    await emulator?.close();
    await scenario?.unload();
    await kubelet?.rest.delete({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'nd-failover-ds' } }).catch(() => undefined);
    await kubelet?.rest.delete({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'nd-failover-ds' } }).catch(() => undefined);
    await kubelet?.stop();
    await proxy?.close();
    await lab?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no queued job, posts nothing twice, applies the fix at most once and keeps acknowledging', async () => {
    const startedAt = Date.now();
    // 1. A diagnosis with a fix; Bob approves it; the PATCH lands and the remediation waits for the rollout.
    expect(await send(slashBody(emulator, { text: 'triton', user: REQUESTER, channel: CHANNEL }))).toBe(200);
    const reply = await eventually(() => {
      const r = emulator.parents(CHANNEL).flatMap((p) => emulator.replies(p.ts)).find((m) => buttons(m).length > 0);
      if (!r) throw new Error('no reply with buttons yet');
      return r;
    }, 60_000);
    const approve = buttons(reply).find((b) => b.action_id === PLAN_ACTIONS.approve)!;
    expect(await send(clickBody(emulator, { user: BOB, channel: CHANNEL, message: reply, actionId: PLAN_ACTIONS.approve, value: approve.value }))).toBe(200);
    await eventually(() => expect(patches()).toBe(1), 60_000);

    // 2. Four diagnoses queued: two run (held at their cluster read), two wait.
    held = new Promise((resolve) => (release = resolve));
    const queuedIds: string[] = [];
    for (const namespace of QUEUED) {
      const triggerId = `trig.${randomUUID()}`;
      queuedIds.push(jobIdFrom('diagnose', triggerId));
      expect(await send(slashBody(emulator, { text: namespace, user: REQUESTER, channel: CHANNEL, triggerId }))).toBe(200);
    }
    const diagnoseQueue = await serve!.producer.queue('lab', 'diagnose');
    await eventually(async () => expect(await diagnoseQueue.getJobCounts('waiting', 'active')).toEqual({ waiting: 2, active: 2 }));
    const remediateQueue = await serve!.producer.queue('lab', 'remediate');
    expect(await remediateQueue.getJobCounts('active')).toEqual({ active: 1 });

    // 3. SIGKILL the primary once the replica has everything; probe `serve` until the Sentinels'
    //    new primary serves commands again (bounded: MAX_PROBES).
    await lab.replicaCaughtUp();
    const oldPrimary = lab.primary.port;
    const killedAt = Date.now();
    await lab.primary.kill();
    const probes: Probe[] = [];
    let servedInARow = 0;
    while (probes.length < MAX_PROBES && servedInARow < 3) {
      const id = `probe-${probes.length}`;
      const sentAt = Date.now();
      const acked = await send(slashBody(emulator, { text: PROBE_NAMESPACE, user: REQUESTER, channel: CHANNEL, responseId: id })).then((s) => s === 200, () => false);
      probes.push({ id, sentAt, acked });
      const served = acked && (await eventually(() => {
        const r = responseTo(id);
        if (r === '[]') throw new Error('no answer yet');
        return r.includes('already running');
      }, 10_000).catch(() => false));
      servedInARow = served ? servedInARow + 1 : 0;
      await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
    }
    expect(servedInARow).toBe(3);
    expect(await lab.currentPrimaryPort()).not.toBe(oldPrimary);

    // 4. Let the held runs read the cluster and the fix roll out.
    release();
    await rollOutDaemonSet(kubelet, 'kube-system', 'kube-proxy');

    // Every queued diagnosis completes.
    await eventually(async () => {
      for (const id of queuedIds) expect(await (await diagnoseQueue.getJob(id))?.getState()).toBe('completed');
    }, 120_000);
    // The fix: applied at most once; its message ends verified, or tells the approver it was interrupted.
    const ended = await eventually(() => {
      const m = emulator.replies(reply.thread_ts!).find((r) => r.ts === reply.ts)!;
      const text = textOf(m);
      if (!/\*fixed\*|interrupted|not verified|still there/.test(text)) throw new Error('remediation still in flight');
      return text;
    }, 150_000);
    expect(patches()).toBe(1);

    // Nothing posted twice: one parent per run, no repeated post in any thread.
    expect(emulator.parents(CHANNEL)).toHaveLength(1 + QUEUED.length);
    const posts = emulator.callsTo('chat.postMessage').filter((c) => c.status === 200).map((c) => JSON.stringify([c.args.channel, c.args.thread_ts ?? null, c.args.text]));
    expect(posts.filter((p, i) => posts.indexOf(p) !== i)).toEqual([]);

    // The figures (reported, not asserted: they depend on the Sentinels' timeouts and the machine).
    const failedAcks = probes.filter((p) => !p.acked);
    const notServed = probes.filter((p) => !responseTo(p.id).includes('already running'));
    const firstFailed = notServed[0];
    const firstServedAfter = firstFailed ? probes.find((p) => p.sentAt > firstFailed.sentAt && responseTo(p.id).includes('already running')) : undefined;
    const figures = {
      probes: probes.length,
      failedAcks: failedAcks.length,
      commandsNotQueued: notServed.length,
      windowMs: firstFailed && firstServedAfter ? firstServedAfter.sentAt - firstFailed.sentAt : 0,
      killToFirstServedMs: (probes.find((p) => responseTo(p.id).includes('already running'))?.sentAt ?? killedAt) - killedAt,
      lostJobs: 0,
      patches: patches(),
      remediationEnded: /\*fixed\*.*verified/.test(ended) ? 'verified' : 'interrupted (approver told)',
      wallMs: Date.now() - startedAt,
    };
    process.stdout.write(`[failover] ${JSON.stringify(figures)}\n`);
    // Every command not queued during the window was acknowledged and told so (nothing silently dropped).
    for (const p of notServed) if (p.acked) expect(responseTo(p.id)).toMatch(/could not handle/);
  });
});
