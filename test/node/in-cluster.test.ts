// netdoctor running inside the real node's cluster, as a user installs it: the OCI image
// (deploy/tools/build-oci-image.sh) and a Redis image built from this machine's redis-server are
// imported into the node's containerd, and the Helm chart is installed with the remediator role,
// the bundled Redis and HTTP mode, its Slack Web API pointed at the Slack emulator on the node's
// address (pods reach the host there), in a namespace that enforces the restricted Pod Security
// Standard. With the seed's kube-proxy fault in place, a signed /netdoctor triton goes to the serve
// pod's IP: its in-process worker diagnoses with the pod's ServiceAccount, posts the thread, an
// approval applies the fix with the remediator role, and NodePort 30081 answers again.
//
// Opt-in (NETDOCTOR_IN_CLUSTER=1) until it has passed twice in a row on the node.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { KubeApi } from '../../src/cluster/kube-api';
import { loadKubeConfig } from '../../src/cluster/kubeconfig';
import { PLAN_ACTIONS } from '../../src/slack/ids';
import { runBuildScript } from '../cluster/build-script';
import { defaultRouteIp, importImage } from '../cluster/node';
import { type FaultCluster, type PodLike, appPage, appWorks, pods, podReady } from '../faults/fault';
import { restoreHealthy } from '../faults/healthy';
import { kubeProxyConfigPath } from '../faults/kube-proxy-config-path';
import { eventually } from '../support/eventually';
import { SlackEmulator } from '../support/slack-emulator';
import { SlackHttpClient, buttons } from '../support/slack-http';

jest.setTimeout(900_000);

const ROOT = path.join(__dirname, '..', '..');
const CHART = path.join(ROOT, 'deploy', 'helm', 'netdoctor');
const NS = 'netdoctor';
const RELEASE = 'netdoctor';
const CLUSTER = 'realnode';
const CHANNEL = 'C0INCLUS1';
const [REQUESTER, APPROVER] = ['U0ALICE01', 'U0BOB0001'];
const SECRET = `secret-${randomUUID()}`;
const OPERATOR_BINDING = 'netdoctor-in-cluster-operator';
const kubeconfig = process.env.NETDOCTOR_NODE_KUBECONFIG!;
const run = promisify(execFile);

interface Timings {
  imagesMs?: number;
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

const describeIf = process.env.NETDOCTOR_IN_CLUSTER === '1' ? describe : describe.skip;
if (process.env.NETDOCTOR_IN_CLUSTER !== '1') {
  process.stderr.write('in-cluster.test.ts skipped: set NETDOCTOR_IN_CLUSTER=1 to install the chart on the real node (opt-in until proven twice in a row)\n');
}

describeIf('netdoctor installed by its Helm chart on the real node', () => {
  let c: FaultCluster;
  let emulator: SlackEmulator;
  let helm: string;
  let valuesFile: string;
  let slack: SlackHttpClient;
  const t: Timings = {};
  const helmArgs = (...args: string[]) => [...args, '--kubeconfig', kubeconfig, '-n', NS];

  beforeAll(async () => {
    const t0 = Date.now();
    const [helmBin, imageBin, redisBin] = await Promise.all([
      runBuildScript(path.join(ROOT, 'deploy', 'tools', 'build-helm.sh')),
      runBuildScript(path.join(ROOT, 'deploy', 'tools', 'build-oci-image.sh')),
      runBuildScript(path.join(ROOT, 'test', 'cluster', 'node', 'build-redis-image.sh')),
    ]);
    helm = path.join(helmBin, 'helm');
    const workDir = process.env.NETDOCTOR_NODE_WORK_DIR!;
    importImage(workDir, path.join(imageBin, 'netdoctor.tar'));
    importImage(workDir, path.join(redisBin, 'redis.tar'));
    t.imagesMs = Date.now() - t0;

    c = { api: await KubeApi.fromKubeConfig(await loadKubeConfig({ file: kubeconfig, env: {} })), appUrl: process.env.NETDOCTOR_NODE_APP_URL!, workDir };
    await c.api.request('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      method: 'POST',
      body: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: OPERATOR_BINDING }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'operator' }] },
    });
    // The host's address on the node's network, not loopback: the pods call it.
    emulator = await SlackEmulator.start(defaultRouteIp());
    await c.api.request('/api/v1/namespaces', {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' } } },
    });
    await c.api.request(`/api/v1/namespaces/${NS}/secrets`, {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'netdoctor-slack' }, stringData: { SLACK_BOT_TOKEN: 'xoxb-in-cluster', SLACK_SIGNING_SECRET: SECRET } },
    });
    const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    valuesFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'netdoctor-in-cluster-')), 'values.yaml');
    fs.writeFileSync(valuesFile, stringify(values({ version, redisImage: fs.readFileSync(path.join(redisBin, 'name'), 'utf8').trim(), apiUrl: emulator.apiUrl })));
  }, 1_800_000);

  afterAll(async () => {
    const s = (ms?: number) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
    process.stderr.write(`\n[in-cluster] images built/reused + imported ${s(t.imagesMs)}, install to ready ${s(t.installToReadyMs)}, ` +
      `command to reply ${s(t.commandToReplyMs)}, approve to traffic restored ${s(t.approveToTrafficMs)}\n`);
    if (helm) await run(helm, helmArgs('uninstall', RELEASE, '--wait', '--timeout', '120s')).catch(() => undefined);
    if (c) {
      await c.api.request(`/api/v1/namespaces/${NS}`, { method: 'DELETE' }).catch(() => undefined);
      await c.api.request(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${OPERATOR_BINDING}`, { method: 'DELETE' }).catch(() => undefined);
      await restoreHealthy(c);
      c.api.close();
    }
    await emulator?.close();
    if (valuesFile) fs.rmSync(path.dirname(valuesFile), { recursive: true, force: true });
  });

  let servePod: PodLike & { status: { podIP?: string } };

  it('installs into a namespace enforcing the restricted Pod Security Standard, and its pods become ready', async () => {
    const t0 = Date.now();
    await run(helm, helmArgs('install', RELEASE, CHART, '-f', valuesFile, '--wait', '--timeout', '300s'));
    t.installToReadyMs = Date.now() - t0;
    const all = await pods(c, NS, `app.kubernetes.io/instance=${RELEASE}`);
    expect(all.map((p) => p.metadata.labels?.['app.kubernetes.io/component']).sort()).toEqual(['redis', 'serve']);
    expect(all.filter((p) => !podReady(p)).map((p) => p.metadata.name)).toEqual([]);
    // Admission enforces the profile: a pod that breaks it is refused in this namespace.
    const refused = await c.api.request(`/api/v1/namespaces/${NS}/pods`, {
      method: 'POST',
      query: { dryRun: 'All' },
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'privileged' }, spec: { containers: [{ name: 'c', image: 'netdoctor.local/netdoctor:0', securityContext: { privileged: true } }] } },
    }).then(() => 'admitted', (e: unknown) => String((e as { status?: number }).status));
    expect(refused).toBe('403');
    servePod = (await pods(c, NS, 'app.kubernetes.io/component=serve'))[0] as typeof servePod;
    expect(servePod.status.podIP).toMatch(/^10\.244\./);
    slack = new SlackHttpClient(`http://${servePod.status.podIP}:3000`, SECRET, emulator, CHANNEL);
  });

  it('diagnoses the seed kube-proxy fault from a signed /netdoctor triton, and an approval in the thread brings NodePort 30081 back', async () => {
    await kubeProxyConfigPath.break(c);
    await eventually(() => kubeProxyConfigPath.ready(c), 240_000, 1000);

    const t0 = Date.now();
    expect(await slack.command(REQUESTER, 'triton')).toBe(200);
    const { reply, planId } = await eventually(async () => {
      const parent = emulator.parents(CHANNEL)[0];
      if (!parent) throw new Error('no report posted yet');
      for (const r of emulator.replies(parent.ts)) {
        const approve = buttons(r).find((b) => b.action_id === PLAN_ACTIONS.approve);
        if (approve && JSON.stringify(SlackEmulator.current(r).blocks).includes('kube-proxy')) return { reply: r, planId: approve.value };
      }
      throw new Error(`no reply offers the kube-proxy plan yet: ${JSON.stringify(emulator.messages.map((m) => m.text))}`);
    }, 180_000, 250);
    t.commandToReplyMs = Date.now() - t0;

    const t1 = Date.now();
    expect(await slack.click(APPROVER, reply, PLAN_ACTIONS.approve, planId)).toBe(200);
    await eventually(async () => {
      if (!(await appWorks(c))) throw new Error(`traffic not back yet: ${(await appPage(c)).slice(0, 300)}`);
    }, 240_000, 1000);
    t.approveToTrafficMs = Date.now() - t1;
    // The worker's own verification after the rollout edits the reply.
    await eventually(async () => expect(JSON.stringify(SlackEmulator.current(reply).blocks)).toContain(':white_check_mark: *fixed*'), 180_000, 500);
    const kp = (await c.api.json<{ spec: { template: { spec: { containers: { command: string[] }[] } } } }>('/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy'));
    expect(kp.spec.template.spec.containers[0]!.command).toContain('--config=/var/lib/kube-proxy/config.conf');
  });

  it('ran it all in pods that stayed live and ready (no restarts) under the chart\'s ServiceAccount', async () => {
    const all = await pods(c, NS, `app.kubernetes.io/instance=${RELEASE}`);
    expect(all.flatMap((p) => (p.status.containerStatuses ?? []).filter((s) => !s.ready || s.restartCount > 0).map((s) => `${p.metadata.name}/${s.name}`))).toEqual([]);
    const serve = await c.api.json<{ spec: { serviceAccountName: string } }>(`/api/v1/namespaces/${NS}/pods/${servePod.metadata.name}`);
    expect(serve.spec.serviceAccountName).toBe(RELEASE);
  });
});
