// netdoctor running inside the real node's cluster, as a user installs it: the OCI image
// (deploy/tools/build-oci-image.sh) and a Redis image built from this machine's redis-server are
// imported into the node's containerd, and the Helm chart is installed with the remediator role,
// the bundled Redis and HTTP mode, its Slack Web API pointed at the Slack emulator on the node's
// address (pods reach the host there), in a namespace that enforces the restricted Pod Security
// Standard. With the seed's kube-proxy fault in place, a signed /netdoctor triton goes to the serve
// pod's IP: its in-process worker diagnoses with the pod's ServiceAccount, posts the thread, an
// approval applies the fix with the remediator role, and NodePort 30081 answers again. Then the same
// with the kustomize base and its remediation component, in Socket Mode (the base's mode): its
// WebSocket to the emulator carries the command and the click.
//
// Runs in every node run; NETDOCTOR_IN_CLUSTER=0 leaves it out (it imports a 240 MB image).
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { KubeApi } from '../../src/cluster/kube-api';
import { loadKubeConfig } from '../../src/cluster/kubeconfig';
import { PLAN_ACTIONS } from '../../src/slack/ids';
import { runBuildScript } from '../cluster/build-script';
import { defaultRouteIp, importImage, manifestObjects, resourcePaths } from '../cluster/node';
import { type Events, type FaultCluster, type PodLike, appPage, appWorks, podLine, pods, podReady } from '../faults/fault';
import { restoreHealthy } from '../faults/healthy';
import { kubeProxyConfigPath } from '../faults/kube-proxy-config-path';
import { eventually } from '../support/eventually';
import { SlackEmulator } from '../support/slack-emulator';
import { type EmulatedMessage } from '../support/slack-emulator';
import { SlackHttpClient, blockActionsPayload, buttons } from '../support/slack-http';

jest.setTimeout(900_000);

const ROOT = path.join(__dirname, '..', '..');
const CHART = path.join(ROOT, 'deploy', 'helm', 'netdoctor');
const NS = 'netdoctor';
const RELEASE = 'netdoctor';
const CLUSTER = 'realnode';
const [REQUESTER, APPROVER] = ['U0ALICE01', 'U0BOB0001'];
const SECRET = `secret-${randomUUID()}`;
const OPERATOR_BINDING = 'netdoctor-in-cluster-operator';
const KUSTOMIZE = path.join(ROOT, 'deploy', 'kustomize');
const kubeconfig = process.env.NETDOCTOR_NODE_KUBECONFIG!;
const run = promisify(execFile);

interface Timings {
  installToReadyMs?: number;
  commandToReplyMs?: number;
  approveToTrafficMs?: number;
}

/** The chart's values for this install: local images never pulled, HTTP mode, Slack at the emulator. */
function values(o: { version: string; redisImage: string; apiUrl: string }): Record<string, unknown> {
  const [redisRepository, redisTag] = o.redisImage.split(':');
  return {
    image: { repository: 'netdoctor.local/netdoctor', tag: o.version, pullPolicy: 'Never' },
    cluster: { name: CLUSTER },
    remediation: { enabled: true },
    slack: { mode: 'http', existingSecret: 'netdoctor-slack' },
    config: {
      extraEnv: [
        { name: 'SLACK_API_URL', value: o.apiUrl },
        { name: 'NETDOCTOR_APPROVERS', value: APPROVER },
        // The approver acts as Kubernetes user "operator" (bound to cluster-admin below): the SubjectAccessReview passes.
        { name: 'NETDOCTOR_IDENTITY_MAP', value: `${APPROVER}=operator` },
        { name: 'NETDOCTOR_VERIFY_TIMEOUT_SECONDS', value: '120' },
      ],
    },
    // The node has no storage provisioner: the AOF lives in an emptyDir.
    redis: { bundled: { image: { repository: redisRepository, tag: redisTag, pullPolicy: 'Never' }, persistence: { enabled: false } } },
  };
}

/** The kustomize overlay a user would write over the base: local images, the emulator, the node's lack of storage. */
function overlay(dir: string, o: { version: string; redisImage: string; apiUrl: string }): Record<string, unknown> {
  const [redisName, redisTag] = o.redisImage.split(':');
  const pullNever = (kind: string, name: string) => ({ target: { kind, name }, patch: JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers/0/imagePullPolicy', value: 'Never' }]) });
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    // kustomize takes relative paths only.
    resources: [path.relative(dir, path.join(KUSTOMIZE, 'base'))],
    components: [path.relative(dir, path.join(KUSTOMIZE, 'components', 'remediation'))],
    images: [{ name: 'netdoctor', newName: 'netdoctor.local/netdoctor', newTag: o.version }, { name: 'redis', newName: redisName, newTag: redisTag }],
    configMapGenerator: [{
      name: 'netdoctor-config',
      behavior: 'merge',
      literals: [`NETDOCTOR_CLUSTER=${CLUSTER}`, `SLACK_CLUSTERS=${CLUSTER}`, `SLACK_API_URL=${o.apiUrl}`, `NETDOCTOR_APPROVERS=${APPROVER}`, `NETDOCTOR_IDENTITY_MAP=${APPROVER}=operator`, 'NETDOCTOR_VERIFY_TIMEOUT_SECONDS=120'],
    }],
    patches: [
      pullNever('Deployment', 'netdoctor-serve'),
      pullNever('StatefulSet', 'netdoctor-redis'),
      // No storage provisioner on the node: the AOF lives in an emptyDir.
      { target: { kind: 'StatefulSet', name: 'netdoctor-redis' }, patch: JSON.stringify([{ op: 'remove', path: '/spec/volumeClaimTemplates' }, { op: 'add', path: '/spec/template/spec/volumes/-', value: { name: 'data', emptyDir: {} } }]) },
    ],
  };
}

const skipped = process.env.NETDOCTOR_IN_CLUSTER === '0';
const describeIf = skipped ? describe.skip : describe;
if (skipped) process.stderr.write('in-cluster.test.ts skipped (NETDOCTOR_IN_CLUSTER=0)\n');

describeIf('netdoctor installed in the real node\'s cluster', () => {
  let c: FaultCluster;
  let emulator: SlackEmulator;
  let helm: string;
  let kustomize: string;
  let redisImage: string;
  let version: string;
  let tmp: string;
  const timings: Record<string, Timings> = { helm: {}, kustomize: {} };

  beforeAll(async () => {
    const t0 = Date.now();
    const [toolBin, imageBin, redisBin] = await Promise.all([
      runBuildScript(path.join(ROOT, 'deploy', 'tools', 'build-helm.sh')),
      runBuildScript(path.join(ROOT, 'deploy', 'tools', 'build-oci-image.sh')),
      runBuildScript(path.join(ROOT, 'test', 'cluster', 'node', 'build-redis-image.sh')),
    ]);
    helm = path.join(toolBin, 'helm');
    kustomize = path.join(toolBin, 'kustomize');
    const workDir = process.env.NETDOCTOR_NODE_WORK_DIR!;
    importImage(workDir, path.join(imageBin, 'netdoctor.tar'));
    importImage(workDir, path.join(redisBin, 'redis.tar'));
    redisImage = fs.readFileSync(path.join(redisBin, 'name'), 'utf8').trim();
    process.stderr.write(`\n[in-cluster] images built/reused and imported in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

    c = { api: await KubeApi.fromKubeConfig(await loadKubeConfig({ file: kubeconfig, env: {} })), appUrl: process.env.NETDOCTOR_NODE_APP_URL!, workDir };
    await c.api.request('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      method: 'POST',
      body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: OPERATOR_BINDING }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'operator' }] },
    });
    // The host's address on the node's network, not loopback: the pods call it.
    emulator = await SlackEmulator.start(defaultRouteIp());
    version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netdoctor-in-cluster-'));
  }, 1_800_000);

  afterAll(async () => {
    const s = (ms?: number) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
    for (const [how, t] of Object.entries(timings)) {
      process.stderr.write(`[in-cluster] ${how}: install to ready ${s(t.installToReadyMs)}, command to reply ${s(t.commandToReplyMs)}, approve to traffic restored ${s(t.approveToTrafficMs)}\n`);
    }
    if (c) {
      await removeNamespace(c).catch(() => undefined);
      await c.api.request(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${OPERATOR_BINDING}`, { method: 'DELETE' }).catch(() => undefined);
      await restoreHealthy(c);
      c.api.close();
    }
    await emulator?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }, 600_000);

  /** `kubectl delete namespace netdoctor --wait`: the next install starts from nothing. */
  async function removeNamespace(cluster: FaultCluster): Promise<void> {
    await cluster.api.request(`/api/v1/namespaces/${NS}`, { method: 'DELETE' }).catch((e: unknown) => {
      if ((e as { status?: number }).status !== 404) throw e;
    });
    await eventually(async () => {
      const gone = await cluster.api.request(`/api/v1/namespaces/${NS}`).then(() => false, (e: unknown) => (e as { status?: number }).status === 404);
      if (!gone) throw new Error(`namespace ${NS} still terminating`);
    }, 180_000, 1000);
  }

  /** The install's pods (serve and redis), all Ready, and a pod breaking the restricted profile refused by admission. */
  async function expectReadyUnderRestricted(): Promise<PodLike & { status: { podIP?: string } }> {
    const all = await pods(c, NS, 'app.kubernetes.io/name=netdoctor');
    expect(all.map((p) => p.metadata.labels?.['app.kubernetes.io/component']).sort()).toEqual(['redis', 'serve']);
    expect(all.filter((p) => !podReady(p)).map((p) => p.metadata.name)).toEqual([]);
    const refused = await c.api.request(`/api/v1/namespaces/${NS}/pods`, {
      method: 'POST',
      query: { dryRun: 'All' },
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'privileged' }, spec: { containers: [{ name: 'c', image: 'netdoctor.local/netdoctor:0', securityContext: { privileged: true } }] } },
    }).then(() => 'admitted', (e: unknown) => String((e as { status?: number }).status));
    expect(refused).toBe('403');
    const serve = (await pods(c, NS, 'app.kubernetes.io/component=serve'))[0] as PodLike & { status: { podIP?: string } };
    expect(serve.status.podIP).toMatch(/^10\.244\./);
    return serve;
  }

  /** The thread reply of the newest report in `channel` that offers the kube-proxy plan. */
  function kubeProxyPlan(channel: string): Promise<{ reply: EmulatedMessage; planId: string }> {
    return eventually(async () => {
      const parent = emulator.parents(channel).at(-1);
      if (!parent) throw new Error(`no report posted in ${channel} yet`);
      for (const r of emulator.replies(parent.ts)) {
        const approve = buttons(r).find((b) => b.action_id === PLAN_ACTIONS.approve);
        if (approve && JSON.stringify(SlackEmulator.current(r).blocks).includes('kube-proxy')) return { reply: r, planId: approve.value };
      }
      throw new Error(`no reply offers the kube-proxy plan yet: ${JSON.stringify(emulator.messages.map((m) => m.text))}`);
    }, 180_000, 250);
  }

  /** The seed's kube-proxy fault: `ask` sends /netdoctor triton, `approve` clicks Approve; the plan must bring NodePort 30081 back. */
  async function fixSeedFault(t: Timings, channel: string, ask: () => Promise<void>, approve: (reply: EmulatedMessage, planId: string) => Promise<void>): Promise<void> {
    await kubeProxyConfigPath.break(c);
    await eventually(() => kubeProxyConfigPath.ready(c), 240_000, 1000);
    const t0 = Date.now();
    await ask();
    const { reply, planId } = await kubeProxyPlan(channel);
    t.commandToReplyMs = Date.now() - t0;
    const t1 = Date.now();
    await approve(reply, planId);
    await eventually(async () => {
      if (!(await appWorks(c))) throw new Error(`traffic not back yet: ${(await appPage(c)).slice(0, 300)}`);
    }, 240_000, 1000);
    t.approveToTrafficMs = Date.now() - t1;
    // The worker's own verification after the rollout edits the reply.
    await eventually(async () => expect(JSON.stringify(SlackEmulator.current(reply).blocks)).toContain(':white_check_mark: *fixed*'), 180_000, 500);
    const kp = await c.api.json<{ spec: { template: { spec: { containers: { command: string[] }[] } } } }>('/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy');
    expect(kp.spec.template.spec.containers[0]!.command).toContain('--config=/var/lib/kube-proxy/config.conf');
  }

  /** The pods ran it all live and ready (no restarts), under the install's ServiceAccount. */
  async function expectStayedHealthy(servePod: PodLike): Promise<void> {
    const all = await pods(c, NS, 'app.kubernetes.io/name=netdoctor');
    const unwell = all.filter((p) => (p.status.containerStatuses ?? []).some((s) => !s.ready || s.restartCount > 0));
    // What the kubelet said about them (probe failures, kills) and what a restarted container printed last.
    const story = async (p: PodLike): Promise<string> => {
      const said = (await c.api.json<Events>(`/api/v1/namespaces/${NS}/events`, { query: { fieldSelector: `involvedObject.name=${p.metadata.name}` } })).items
        .filter((e) => e.reason !== 'Scheduled' && e.reason !== 'Pulled' && e.reason !== 'Created' && e.reason !== 'Started').map((e) => `${e.reason ?? ''}: ${e.message ?? ''}`);
      const previous = (p.status.containerStatuses ?? []).some((s) => s.restartCount > 0)
        ? (await c.api.request(`/api/v1/namespaces/${NS}/pods/${p.metadata.name}/log`, { query: { previous: 'true', tailLines: '20' } }).then((r) => r.body, (e: unknown) => String(e)))
        : '';
      return `${podLine(p)}; events: ${said.join(' | ') || 'none'}${previous ? `; previous log: ${previous}` : ''}`;
    };
    expect(await Promise.all(unwell.map(story))).toEqual([]);
    const serve = await c.api.json<{ spec: { serviceAccountName: string } }>(`/api/v1/namespaces/${NS}/pods/${servePod.metadata.name}`);
    expect(serve.spec.serviceAccountName).toBe(RELEASE);
  }

  describe('by its Helm chart (HTTP mode)', () => {
    const channel = 'C0INCLUS1';
    const helmArgs = (...args: string[]) => [...args, '--kubeconfig', kubeconfig, '-n', NS];
    let servePod: PodLike & { status: { podIP?: string } };
    let slack: SlackHttpClient;

    afterAll(async () => {
      if (helm) await run(helm, helmArgs('uninstall', RELEASE, '--wait', '--timeout', '120s')).catch(() => undefined);
      if (c) await removeNamespace(c);
    }, 400_000);

    it('installs into a namespace enforcing the restricted Pod Security Standard, and its pods become ready', async () => {
      await c.api.request('/api/v1/namespaces', {
        method: 'POST',
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' } } },
      });
      await c.api.request(`/api/v1/namespaces/${NS}/secrets`, {
        method: 'POST',
        body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'netdoctor-slack' }, stringData: { SLACK_BOT_TOKEN: 'xoxb-in-cluster', SLACK_SIGNING_SECRET: SECRET } },
      });
      const valuesFile = path.join(tmp, 'values.yaml');
      fs.writeFileSync(valuesFile, stringify(values({ version, redisImage, apiUrl: emulator.apiUrl })));
      const t0 = Date.now();
      await run(helm, helmArgs('install', RELEASE, CHART, '-f', valuesFile, '--wait', '--timeout', '300s'));
      timings.helm!.installToReadyMs = Date.now() - t0;
      servePod = await expectReadyUnderRestricted();
      slack = new SlackHttpClient(`http://${servePod.status.podIP}:3000`, SECRET, emulator, channel);
    }, 420_000);

    it('diagnoses the seed kube-proxy fault from a signed /netdoctor triton, and an approval in the thread brings NodePort 30081 back', async () => {
      await fixSeedFault(timings.helm!, channel,
        async () => expect(await slack.command(REQUESTER, 'triton')).toBe(200),
        async (reply, planId) => expect(await slack.click(APPROVER, reply, PLAN_ACTIONS.approve, planId)).toBe(200));
    }, 900_000);

    it('ran it all in pods that stayed live and ready (no restarts) under the chart\'s ServiceAccount', () => expectStayedHealthy(servePod));
  });

  describe('by the kustomize base and its remediation component (Socket Mode)', () => {
    const channel = 'C0INCLUS2';
    let servePod: PodLike;

    /** The Socket Mode envelope of `payload`, delivered over the serve pod's WebSocket; resolves once acked. */
    const deliver = (type: string, payload: object) => emulator.deliver(type, payload as Record<string, unknown>);

    it('applies (the Secrets created as its README says), and its pods become ready under the restricted profile', async () => {
      const dir = path.join(tmp, 'overlay');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'kustomization.yaml'), stringify(overlay(dir, { version, redisImage, apiUrl: emulator.apiUrl })));
      const objects = manifestObjects((await run(kustomize, ['build', '--load-restrictor', 'LoadRestrictionsNone', dir], { maxBuffer: 16 << 20 })).stdout);
      const t0 = Date.now();
      const socketsBefore = emulator.socketClients;
      // The Namespace first (it carries the restricted label), then the Secrets, then the rest: `kubectl apply --server-side`.
      const ordered = [...objects.filter((o) => o.kind === 'Namespace'), ...objects.filter((o) => o.kind !== 'Namespace')];
      for (const [i, o] of ordered.entries()) {
        await c.api.request(resourcePaths(o).object, { method: 'PATCH', body: o, contentType: 'application/apply-patch+yaml', query: { fieldManager: 'kubectl', force: 'true' } });
        if (i === 0) {
          for (const [name, data] of Object.entries({
            'netdoctor-slack': { SLACK_BOT_TOKEN: 'xoxb-in-cluster', SLACK_APP_TOKEN: 'xapp-in-cluster' },
            'netdoctor-redis-auth': { REDIS_PASSWORD: randomBytes(24).toString('hex') },
            'netdoctor-plan-key': { NETDOCTOR_PLAN_KEY: randomBytes(32).toString('hex') },
          })) {
            await c.api.request(`/api/v1/namespaces/${NS}/secrets`, { method: 'POST', body: { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: data } });
          }
        }
      }
      await eventually(async () => {
        const all = await pods(c, NS, 'app.kubernetes.io/name=netdoctor');
        if (all.length < 2 || !all.every(podReady)) throw new Error(`not ready yet: ${all.map((p) => `${p.metadata.name} ${p.status.phase ?? ''}`).join(', ') || 'no pod'}`);
        // Socket Mode: ready once the WebSocket to the emulator is open.
        if (emulator.socketClients <= socketsBefore) throw new Error('serve has not opened its Socket Mode connection yet');
      }, 300_000, 1000);
      timings.kustomize!.installToReadyMs = Date.now() - t0;
      servePod = await expectReadyUnderRestricted();
    }, 420_000);

    it('diagnoses the seed kube-proxy fault from /netdoctor triton over the WebSocket, and an approval brings NodePort 30081 back', async () => {
      const triggerId = `trig.${randomUUID()}`;
      await fixSeedFault(timings.kustomize!, channel,
        () => deliver('slash_commands', { team_id: 'T0EMUL', channel_id: channel, user_id: REQUESTER, command: '/netdoctor', text: 'triton', api_app_id: 'A0NETDOC', response_url: emulator.responseUrl(triggerId), trigger_id: triggerId }),
        (reply, planId) => deliver('interactive', blockActionsPayload(emulator, APPROVER, reply, channel, PLAN_ACTIONS.approve, planId)));
    }, 900_000);

    it('ran it all in pods that stayed live and ready (no restarts) under the base\'s ServiceAccount', () => expectStayedHealthy(servePod));
  });
});

