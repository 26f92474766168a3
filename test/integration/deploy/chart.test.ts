// The deploy manifests against the real test apiserver:
//  - the Helm chart rendered by a real helm (deploy/tools/build-helm.sh builds it from the
//    Go module proxy) for the default, multi-cluster and external-Redis values, and the
//    kustomize base (and its remediation overlay) rendered by a real kustomize;
//  - every rendered object server-side applied with dryRun=All (full validation, defaulting
//    and admission, nothing persisted) into a namespace created for real, labelled to enforce
//    the restricted Pod Security Standard; every pod template is also dry-run created as a
//    Pod there, so PodSecurity admission *enforces* restricted on it (for Deployments it only warns);
//  - the RBAC in the chart and the kustomize base is the one in deploy/rbac/ (the RBAC test uses that).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { CHECKS } from '../../../src/checks';
import { loadConfig } from '../../../src/config';
import { KubeApi } from '../../../src/cluster/kube-api';
import { LiveReader } from '../../../src/cluster/live-reader';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { loadWorkflows } from '../../../src/engine/workflow';
import { runBuildScript } from '../../cluster/build-script';
import { Rest, type Obj } from '../../cluster/rest';

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CHART = path.join(ROOT, 'deploy', 'helm', 'netdoctor');
const KUSTOMIZE = path.join(ROOT, 'deploy', 'kustomize');
const RBAC = path.join(ROOT, 'deploy', 'rbac');
const FIELD_MANAGER = 'netdoctor-chart-test';

type K8sObj = Obj & {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  spec?: Record<string, any>;
  rules?: { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[] }[];
};

function parseYamlStream(text: string): K8sObj[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(d.errors.map((e) => e.message).join('; '));
      return d.toJS() as K8sObj | null;
    })
    .filter((o): o is K8sObj => o !== null && typeof o === 'object');
}

function readYaml(file: string): K8sObj[] {
  return parseYamlStream(fs.readFileSync(file, 'utf8'));
}

const key = (o: K8sObj): string => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/** Pod templates of workload objects, with what a Pod made from them needs. */
function podTemplates(objs: K8sObj[]): { owner: K8sObj; template: { metadata?: any; spec: any } }[] {
  return objs
    .filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind!))
    .map((owner) => ({ owner, template: owner.spec!.template }));
}

/**
 * The environment a netdoctor container starts with, as the kubelet builds it: `envFrom` ConfigMaps
 * of the rendering, then `env` in order, `$(VAR)` expanded from the entries before it. Secrets hold
 * stand-in values of the shape their key asks for (a Redis URL, Slack tokens, a 64-hex key).
 */
function containerEnv(container: any, objs: K8sObj[]): Record<string, string> {
  const configMap = (name: string): Record<string, string> => ((objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name) as any)?.data ?? {}) as Record<string, string>;
  const secret = (key: string): string =>
    /url/i.test(key) ? 'redis://redis.example:6379/0' : /bot/i.test(key) ? 'xoxb-0-stand-in' : /app/i.test(key) ? 'xapp-0-stand-in' : 'a1'.repeat(32);
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) if (from.configMapRef) Object.assign(env, configMap(from.configMapRef.name));
  for (const e of container.env ?? []) {
    const from = e.valueFrom;
    env[e.name] =
      e.value !== undefined ? String(e.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (ref: string, name: string) => env[name] ?? ref)
      : from?.secretKeyRef ? secret(from.secretKeyRef.key)
      : from?.configMapKeyRef ? configMap(from.configMapKeyRef.name)[from.configMapKeyRef.key] ?? ''
      : from?.fieldRef?.fieldPath === 'status.podIP' ? '10.244.0.9' : 'stand-in';
  }
  return env;
}

function containersOf(objs: K8sObj[]): { owner: K8sObj; container: any; pod: any }[] {
  return podTemplates(objs).flatMap(({ owner, template }) =>
    [...(template.spec.initContainers ?? []), ...template.spec.containers].map((container: any) => ({ owner, container, pod: template.spec })),
  );
}

interface ApiResult {
  status: number;
  body: string;
  warnings: string[];
}

/** One request with the admin kubeconfig's credentials; returns the status, body and Warning headers. */
async function call(kc: k8s.KubeConfig, method: string, urlPath: string, body: unknown, contentType = 'application/json'): Promise<ApiResult> {
  const server = kc.getCurrentCluster()!.server.replace(/\/$/, '');
  const url = new URL(server + urlPath);
  const payload = JSON.stringify(body);
  const opts: https.RequestOptions = {
    method,
    hostname: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    headers: { Accept: 'application/json', 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) },
  };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = https.request(opts, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('end', () => {
        const raw = res.headers.warning;
        const text = Array.isArray(raw) ? raw.join(', ') : (raw ?? '');
        const warnings = [...text.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
        resolve({ status: res.statusCode ?? 0, body: data, warnings });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function statusMessage(r: ApiResult): string {
  try {
    return (JSON.parse(r.body) as { message?: string }).message ?? r.body;
  } catch {
    return r.body;
  }
}

interface DryRunOutcome {
  /** "Kind/ns/name: message" for every object the apiserver refused. */
  failures: string[];
  /** Warning headers per object (PodSecurity warns on workloads, deprecated APIs warn, ...). */
  warnings: string[];
  applied: string[];
}

/** Server-side apply of every object with dryRun=All (what `kubectl apply --server-side --dry-run=server` does). */
async function dryRunApply(kc: k8s.KubeConfig, rest: Rest, objs: K8sObj[]): Promise<DryRunOutcome> {
  const out: DryRunOutcome = { failures: [], warnings: [], applied: [] };
  for (const obj of objs) {
    let p: string;
    try {
      p = await rest.objectPath(obj);
    } catch (e) {
      out.failures.push(`${key(obj)}: ${(e as Error).message}`);
      continue;
    }
    const r = await call(kc, 'PATCH', `${p}?dryRun=All&fieldManager=${FIELD_MANAGER}&force=true`, obj, 'application/apply-patch+yaml');
    if (r.status < 200 || r.status >= 300) out.failures.push(`${key(obj)}: HTTP ${r.status}: ${statusMessage(r)}`);
    else out.applied.push(key(obj));
    out.warnings.push(...r.warnings.map((w) => `${key(obj)}: ${w}`));
  }
  return out;
}

/** Dry-run creates one Pod per pod template: PodSecurity admission enforces the namespace's level on Pods. */
async function dryRunPods(kc: k8s.KubeConfig, objs: K8sObj[]): Promise<string[]> {
  const failures: string[] = [];
  for (const { owner, template } of podTemplates(objs)) {
    const ns = owner.metadata.namespace!;
    const spec = structuredClone(template.spec);
    // A StatefulSet's claims become volumes of its pods.
    for (const claim of owner.spec?.volumeClaimTemplates ?? []) {
      spec.volumes = [...(spec.volumes ?? []), { name: claim.metadata.name, persistentVolumeClaim: { claimName: `${claim.metadata.name}-${owner.metadata.name}-0` } }];
    }
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${owner.metadata.name}-dry-run`.slice(0, 63), namespace: ns, labels: template.metadata?.labels }, spec };
    const r = await call(kc, 'POST', `/api/v1/namespaces/${ns}/pods?dryRun=All&fieldManager=${FIELD_MANAGER}`, pod);
    if (r.status !== 201 && r.status !== 200) failures.push(`pod of ${key(owner)}: HTTP ${r.status}: ${statusMessage(r)}`);
  }
  return failures;
}

/** Rules as a comparable, order-independent set of "group|resource|verb" triples. */
function ruleSet(role: K8sObj): string[] {
  return (role.rules ?? [])
    .flatMap((r) => (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).flatMap((res) => (r.verbs ?? []).map((v) => `${g}|${res}|${v}${r.resourceNames ? `|${r.resourceNames.join(',')}` : ''}`))))
    .sort();
}

const READER_RULES = ruleSet(readYaml(path.join(RBAC, 'reader.yaml')).find((o) => o.kind === 'ClusterRole')!);
const REMEDIATOR_RULES = ruleSet(readYaml(path.join(RBAC, 'remediation', 'remediator.yaml')).find((o) => o.kind === 'ClusterRole')!);
const CNI_INSTALLER_FILE = path.join(RBAC, 'remediation', 'cni-install', 'cni-installer.yaml');
const CNI_INSTALLER_RULES = ruleSet(readYaml(CNI_INSTALLER_FILE).find((o) => o.kind === 'ClusterRole')!);

/** What every rendering must satisfy, whatever the values. */
function checkInvariants(objs: K8sObj[], opts: { remediation: boolean; cniInstall?: boolean }): void {
  // No Secret carries a value from values: the only ones rendered are the two the chart generates
  // (the bundled Redis's password, the plan key), one random key each, kept on uninstall.
  for (const secret of objs.filter((o) => o.kind === 'Secret') as (K8sObj & { data?: Record<string, string> })[]) {
    expect(secret.metadata.name).toMatch(/-(redis-auth|plan-key)$/);
    expect(Object.keys(secret.data ?? {})).toEqual([secret.metadata.name.endsWith('-plan-key') ? 'NETDOCTOR_PLAN_KEY' : 'REDIS_PASSWORD']);
    expect(Buffer.from(Object.values(secret.data!)[0]!, 'base64').toString()).toMatch(/^[A-Za-z0-9]{40,}$/);
    expect((secret.metadata as { annotations?: Record<string, string> }).annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
  }
  // RBAC: the reader is deploy/rbac's reader; the remediator exists only when enabled.
  const roles = objs.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
  const reader = roles.find((r) => r.metadata.name.endsWith('-reader'));
  expect(reader && ruleSet(reader)).toEqual(READER_RULES);
  const remediator = roles.find((r) => r.metadata.name.endsWith('-remediator'));
  if (opts.remediation) expect(remediator && ruleSet(remediator)).toEqual(REMEDIATOR_RULES);
  else expect(remediator).toBeUndefined();
  const installer = roles.find((r) => r.metadata.name.endsWith('-cni-installer'));
  if (opts.cniInstall) expect(installer && ruleSet(installer)).toEqual(CNI_INSTALLER_RULES);
  else expect(installer).toBeUndefined();
  for (const role of roles) {
    for (const triple of ruleSet(role)) {
      const [, resource, verb] = triple.split('|');
      expect(triple).not.toMatch(/\*/);
      expect(resource).not.toBe('secrets');
      expect(resource).not.toMatch(/^pods\/(exec|attach|portforward|proxy)$/);
      expect(verb).not.toMatch(/^(impersonate|escalate|bind)$/);
    }
  }
  // Pods: restricted security contexts, probes on the admin port for netdoctor's own containers.
  for (const { owner, container, pod } of containersOf(objs)) {
    const where = `${key(owner)} container ${container.name}`;
    expect({ where, runAsNonRoot: pod.securityContext?.runAsNonRoot, seccomp: pod.securityContext?.seccompProfile?.type }).toEqual({ where, runAsNonRoot: true, seccomp: 'RuntimeDefault' });
    expect({ where, ...container.securityContext }).toMatchObject({ where, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect({ where, limits: container.resources?.limits?.memory !== undefined, requests: container.resources?.requests !== undefined }).toEqual({ where, limits: true, requests: true });
    for (const env of container.env ?? []) {
      // Credentials in REDIS_URL only by reference to the REDIS_PASSWORD env entry (expanded by Kubernetes).
      if (env.name === 'REDIS_URL' && env.value !== undefined) expect(env.value.replace(':$(REDIS_PASSWORD)@', '')).not.toContain('@');
      if (env.name === 'NETDOCTOR_PLAN_KEY' || /REDIS_PASSWORD|REDISCLI_AUTH/.test(env.name)) expect({ where, name: env.name, ref: !!env.valueFrom?.secretKeyRef }).toEqual({ where, name: env.name, ref: true });
      if (/^SLACK_(BOT_TOKEN|APP_TOKEN|SIGNING_SECRET)$/.test(env.name)) expect({ where, name: env.name, value: env.value, ref: !!env.valueFrom?.secretKeyRef }).toEqual({ where, name: env.name, value: undefined, ref: true });
    }
    if (['serve', 'worker'].includes(container.name)) {
      expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'admin' });
      expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'admin' });
      expect(container.ports.some((p: any) => p.name === 'admin')).toBe(true);
      expect(container.volumeMounts).toEqual(expect.arrayContaining([{ name: 'tmp', mountPath: '/tmp' }]));
    }
  }
  // Bundled Redis, when present: AOF, noeviction, a password from a Secret, protected mode.
  for (const { container } of containersOf(objs).filter((c) => c.container.name === 'redis')) {
    const args = (container.args as string[]).join(' ');
    expect(args).toContain('--appendonly yes');
    expect(args).toContain('--maxmemory-policy noeviction');
    expect(args).toContain('--requirepass $(REDIS_PASSWORD)');
    expect(args).toContain('--protected-mode yes');
    const env = container.env as { name: string; valueFrom?: { secretKeyRef?: unknown } }[];
    expect(env.map((e) => [e.name, !!e.valueFrom?.secretKeyRef])).toEqual([['REDIS_PASSWORD', true], ['REDISCLI_AUTH', true]]);
  }
  // With remediation, every netdoctor container gets the plan key, from a Secret.
  for (const { container } of containersOf(objs).filter((c) => ['serve', 'worker'].includes(c.container.name))) {
    const env = (container.env ?? []) as { name: string; valueFrom?: { secretKeyRef?: unknown } }[];
    expect(env.some((e) => e.name === 'NETDOCTOR_PLAN_KEY' && !!e.valueFrom?.secretKeyRef)).toBe(opts.remediation);
  }
  // The bot's own NetworkPolicy: ingress and egress both restricted.
  const np = objs.find((o) => o.kind === 'NetworkPolicy' && o.spec?.podSelector?.matchExpressions);
  expect(np?.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
}

describe('deploy manifests on the real test apiserver (server-side dry-run)', () => {
  let kc: k8s.KubeConfig;
  let rest: Rest;
  let helm: string;
  let kustomize: string;
  let kubeVersion: string;
  const created: string[] = [];
  /** Cluster-scoped objects applied for real (the RBAC test), deleted in afterAll. */
  const clusterScoped: K8sObj[] = [];
  const suffix = `${process.pid}`;

  /** A namespace created for real, enforcing (and warning on) the restricted Pod Security Standard. */
  async function namespace(name: string): Promise<string> {
    const r = await call(kc, 'POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name,
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/warn-version': 'latest',
        },
      },
    });
    if (r.status !== 201 && r.status !== 409) throw new Error(`create namespace ${name}: HTTP ${r.status}: ${statusMessage(r)}`);
    created.push(name);
    return name;
  }

  /** ServiceAccounts of a rendering, created for real: the ServiceAccount admission of a Pod needs them. */
  async function createServiceAccounts(objs: K8sObj[]): Promise<void> {
    for (const sa of objs.filter((o) => o.kind === 'ServiceAccount')) {
      const r = await call(kc, 'POST', `/api/v1/namespaces/${sa.metadata.namespace}/serviceaccounts`, sa);
      if (r.status !== 201 && r.status !== 409) throw new Error(`create ${key(sa)}: HTTP ${r.status}: ${statusMessage(r)}`);
    }
  }

  function helmTemplate(release: string, ns: string, valuesFiles: string[] = [], extra: string[] = []): K8sObj[] {
    const args = ['template', release, CHART, '--namespace', ns, '--kube-version', kubeVersion, ...valuesFiles.flatMap((f) => ['-f', path.join(CHART, f)]), ...extra];
    return parseYamlStream(execFileSync(helm, args, { encoding: 'utf8', maxBuffer: 16 << 20 }));
  }

  async function applyAll(objs: K8sObj[]): Promise<DryRunOutcome & { podFailures: string[] }> {
    // Namespaces first (as kubectl orders them), then everything else in render order.
    const ordered = [...objs.filter((o) => o.kind === 'Namespace'), ...objs.filter((o) => o.kind !== 'Namespace')];
    const outcome = await dryRunApply(kc, rest, ordered);
    await createServiceAccounts(objs);
    return { ...outcome, podFailures: await dryRunPods(kc, objs) };
  }

  beforeAll(async () => {
    const kubeconfig = process.env.NETDOCTOR_TEST_KUBECONFIG;
    if (!kubeconfig) throw new Error('NETDOCTOR_TEST_KUBECONFIG not set: run through the integration jest project (globalSetup)');
    kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    rest = new Rest(kc);
    // Builds helm + kustomize from the Go module proxy once; later runs reuse the cached binaries.
    const bin = await runBuildScript(path.join(ROOT, 'deploy', 'tools', 'build-helm.sh'));
    helm = path.join(bin, 'helm');
    kustomize = path.join(bin, 'kustomize');
    kubeVersion = (await rest.request<{ gitVersion: string }>('GET', '/version')).gitVersion;
  }, 1_800_000);

  afterAll(async () => {
    for (const o of clusterScoped) await rest.delete(o).catch(() => undefined);
    for (const ns of created) await rest.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
  });

  it('helm lint --strict passes for every values file', () => {
    for (const values of [[], ['ci/multi-values.yaml'], ['ci/external-redis-values.yaml'], ['ci/ha-values.yaml']]) {
      execFileSync(helm, ['lint', '--strict', CHART, '--kube-version', kubeVersion, ...values.flatMap((f) => ['-f', path.join(CHART, f)])], { encoding: 'utf8' });
    }
  });

  it('default values: single cluster (serve runs its workers), Socket Mode, bundled Redis, read-only RBAC — applies cleanly', async () => {
    const ns = await namespace(`nd-helm-default-${suffix}`);
    const objs = helmTemplate('netdoctor', ns);
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        'ClusterRole/netdoctor-reader',
        'ClusterRoleBinding/netdoctor-reader',
        'Deployment/netdoctor-serve',
        'NetworkPolicy/netdoctor',
        'NetworkPolicy/netdoctor-redis',
        'Secret/netdoctor-redis-auth',
        'Service/netdoctor-redis',
        'Service/netdoctor-redis-headless',
        'ServiceAccount/netdoctor',
        'StatefulSet/netdoctor-redis',
      ].sort(),
    );
    checkInvariants(objs, { remediation: false });
    const binding = objs.find((o) => o.kind === 'ClusterRoleBinding')! as any;
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'netdoctor', namespace: ns }]);
    const serve = objs.find((o) => o.metadata.name === 'netdoctor-serve')!.spec!.template.spec;
    expect(serve.automountServiceAccountToken).toBe(true);
    expect(serve.containers[0].args).toEqual(['serve']);
    expect(serve.containers[0].env).toEqual(
      expect.arrayContaining([
        { name: 'NETDOCTOR_CLUSTER', value: 'default' },
        { name: 'SLACK_MODE', value: 'socket' },
        { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'netdoctor-redis-auth', key: 'REDIS_PASSWORD' } } },
        { name: 'REDIS_URL', value: 'redis://:$(REDIS_PASSWORD)@netdoctor-redis:6379/0' },
        { name: 'SLACK_APP_TOKEN', valueFrom: { secretKeyRef: { name: 'netdoctor-slack', key: 'SLACK_APP_TOKEN' } } },
      ]),
    );

    const r = await applyAll(objs);
    expect(r.failures).toEqual([]);
    expect(r.podFailures).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.applied).toHaveLength(objs.length);
  });

  it('multi-cluster values: front end only, a worker per cluster, HTTP mode + Ingress, remediation on — applies cleanly', async () => {
    const ns = await namespace(`nd-helm-multi-${suffix}`);
    const objs = helmTemplate('nd', ns, ['ci/multi-values.yaml']);
    checkInvariants(objs, { remediation: true, cniInstall: true });
    expect(objs.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name).sort()).toEqual(['nd-netdoctor-plan-key', 'nd-netdoctor-redis-auth']);
    const workers = objs.filter((o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === 'worker');
    expect(workers.map((w) => w.metadata.labels!['netdoctor.io/cluster'])).toEqual(['mgmt', 'prod-eu', 'prod-us']);
    const byCluster = Object.fromEntries(workers.map((w) => [w.metadata.labels!['netdoctor.io/cluster'], w.spec!]));
    expect(byCluster['mgmt'].template.spec.automountServiceAccountToken).toBe(true);
    expect(byCluster['mgmt'].template.spec.containers[0].args).toEqual(['worker', '--cluster', 'mgmt']);
    expect(byCluster['prod-eu'].replicas).toBe(2);
    for (const remote of ['prod-eu', 'prod-us']) {
      const spec = byCluster[remote].template.spec;
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.volumes).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'kubeconfig', secret: expect.objectContaining({ secretName: `netdoctor-kubeconfig-${remote}` }) })]));
      expect(spec.containers[0].env).toEqual(expect.arrayContaining([{ name: 'NETDOCTOR_CLUSTER', value: remote }, expect.objectContaining({ name: 'KUBECONFIG' })]));
    }
    // Two serve replicas and two prod-eu workers: each has a PodDisruptionBudget of its own.
    expect(objs.filter((o) => o.kind === 'PodDisruptionBudget').map((o) => o.metadata.name).sort()).toEqual(['nd-netdoctor-serve', 'nd-netdoctor-worker-prod-eu']);
    const serve = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'nd-netdoctor-serve')!.spec!.template.spec;
    expect(serve.automountServiceAccountToken).toBe(false);
    expect(serve.containers[0].args).toEqual(['serve', '--front-end-only']);
    expect(serve.containers[0].env).toEqual(
      expect.arrayContaining([
        { name: 'SLACK_CLUSTERS', value: 'mgmt,prod-eu,prod-us' },
        { name: 'SLACK_MODE', value: 'http' },
        { name: 'SLACK_ALLOWED_CHANNELS', value: 'C0123ABCD' },
        { name: 'SLACK_SIGNING_SECRET', valueFrom: { secretKeyRef: { name: 'netdoctor-slack', key: 'SLACK_SIGNING_SECRET' } } },
      ]),
    );
    expect(objs.some((o) => o.kind === 'Ingress')).toBe(true);

    const r = await applyAll(objs);
    expect(r.failures).toEqual([]);
    expect(r.podFailures).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  it('external Redis from a Secret and Socket Mode: no bundled Redis — applies cleanly', async () => {
    const ns = await namespace(`nd-helm-ext-${suffix}`);
    const objs = helmTemplate('netdoctor', ns, ['ci/external-redis-values.yaml']);
    checkInvariants(objs, { remediation: false });
    expect(objs.some((o) => o.metadata.name.includes('redis'))).toBe(false);
    const env = objs.find((o) => o.metadata.name === 'netdoctor-serve')!.spec!.template.spec.containers[0].env;
    expect(env).toEqual(
      expect.arrayContaining([
        { name: 'REDIS_URL', valueFrom: { secretKeyRef: { name: 'netdoctor-redis-url', key: 'REDIS_URL' } } },
        { name: 'SLACK_APP_TOKEN', valueFrom: { secretKeyRef: { name: 'my-slack', key: 'app-token' } } },
      ]),
    );
    const r = await applyAll(objs);
    expect(r.failures).toEqual([]);
    expect(r.podFailures).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  it('Redis Sentinel and two serve replicas: Sentinel settings, a PodDisruptionBudget, spread over nodes, no bundled Redis — applies cleanly', async () => {
    const ns = await namespace(`nd-helm-ha-${suffix}`);
    const objs = helmTemplate('netdoctor', ns, ['ci/ha-values.yaml']);
    checkInvariants(objs, { remediation: false });
    expect(objs.some((o) => o.metadata.name.includes('redis'))).toBe(false);
    const serve = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'netdoctor-serve')!;
    expect(serve.spec!.template.spec.containers[0].env).toEqual(
      expect.arrayContaining([
        { name: 'REDIS_SENTINELS', value: 'redis-sentinel-0.redis:26379,redis-sentinel-1.redis:26379,redis-sentinel-2.redis:26379' },
        { name: 'REDIS_SENTINEL_NAME', value: 'mymaster' },
        { name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: 'netdoctor-redis', key: 'password' } } },
        { name: 'REDIS_SENTINEL_PASSWORD', valueFrom: { secretKeyRef: { name: 'netdoctor-redis', key: 'sentinel-password' } } },
      ]),
    );
    expect(JSON.stringify(serve.spec!.template.spec)).toContain('"podAntiAffinity"');
    const pdb = objs.find((o) => o.kind === 'PodDisruptionBudget')!;
    expect(pdb.spec).toMatchObject({ minAvailable: 1, selector: { matchLabels: { 'app.kubernetes.io/component': 'serve' } } });
    const r = await applyAll(objs);
    expect(r.failures).toEqual([]);
    expect(r.warnings).toEqual([]);
  });

  it('helm install --dry-run=server against the test apiserver prints NOTES with the next steps', async () => {
    const ns = await namespace(`nd-helm-install-${suffix}`);
    for (const values of [[], ['ci/multi-values.yaml']]) {
      const out = execFileSync(
        helm,
        ['install', 'netdoctor', CHART, '--namespace', ns, '--dry-run=server', '--kubeconfig', process.env.NETDOCTOR_TEST_KUBECONFIG!, ...values.flatMap((f) => ['-f', path.join(CHART, f)])],
        { encoding: 'utf8', env: { ...process.env, HELM_CACHE_HOME: path.join(os.tmpdir(), `nd-helm-cache-${suffix}`), HELM_CONFIG_HOME: path.join(os.tmpdir(), `nd-helm-config-${suffix}`), HELM_DATA_HOME: path.join(os.tmpdir(), `nd-helm-data-${suffix}`) } },
      );
      const notes = out.slice(out.indexOf('NOTES:'));
      expect(notes).toContain(`kubectl -n ${ns} create secret generic netdoctor-slack`);
      expect(notes).toContain(values.length ? "--from-literal=SLACK_SIGNING_SECRET='<signing secret>'" : "--from-literal=SLACK_APP_TOKEN='xapp-...'");
      if (values.length) expect(notes).toContain('--from-file=kubeconfig=./prod-eu.kubeconfig');
    }
  });

  it('the chart refuses bad values: literal Slack tokens, credentials in redis.url, unknown mode, multi without clusters', () => {
    const fails = (set: string[]): string => {
      try {
        execFileSync(helm, ['template', 'x', CHART, '--kube-version', kubeVersion, ...set.flatMap((s) => ['--set', s])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (e) {
        return String((e as { stderr?: string }).stderr);
      }
      throw new Error(`helm template accepted ${set.join(' ')}`);
    };
    expect(fails(['slack.botToken=xoxb-123'])).toContain("additional properties 'botToken' not allowed");
    expect(fails(['redis.url=redis://:hunter2@redis:6379'])).toContain('/redis/url');
    expect(fails(['mode=both'])).toContain('mode');
    expect(fails(['mode=multi'])).toContain('mode: multi needs at least one entry in clusters');
    expect(fails(['mode=multi', 'clusters[0].name=remote'])).toContain('set kubeconfigSecret.name');
    expect(fails(['slack.mode=webhook'])).toContain('/slack/mode');
    expect(fails(['serve.ingress.enabled=true', 'serve.ingress.host=x.example.com'])).toContain('needs slack.mode: http');
  });

  it('kustomize base: renders with namespace netdoctor and carries deploy/rbac verbatim', () => {
    const objs = parseYamlStream(execFileSync(kustomize, ['build', path.join(KUSTOMIZE, 'base')], { encoding: 'utf8' }));
    expect(objs.filter((o) => o.metadata.namespace).every((o) => o.metadata.namespace === 'netdoctor')).toBe(true);
    for (const file of ['namespace.yaml', 'serviceaccount.yaml', 'reader.yaml']) {
      expect(readYaml(path.join(KUSTOMIZE, 'base', file))).toEqual(readYaml(path.join(RBAC, file)));
    }
    expect(readYaml(path.join(KUSTOMIZE, 'components', 'remediation', 'remediator.yaml'))).toEqual(readYaml(path.join(RBAC, 'remediation', 'remediator.yaml')));
    expect(readYaml(path.join(KUSTOMIZE, 'components', 'cni-install', 'cni-installer.yaml'))).toEqual(readYaml(CNI_INSTALLER_FILE));
    checkInvariants(objs, { remediation: false });
    // Same objects as the chart's default rendering (plus the Namespace and the generated ConfigMap),
    // but for the Secret the chart generates: with kustomize you create it (it is referenced by the same name).
    const rendered = helmTemplate('netdoctor', 'netdoctor');
    const chart = rendered.filter((o) => o.kind !== 'Secret').map((o) => `${o.kind}/${o.metadata.name}`);
    const refs = (objs: K8sObj[]): string[] =>
      containersOf(objs)
        .flatMap(({ container }) => (container.env ?? []) as { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[])
        .flatMap((e) => (e.valueFrom?.secretKeyRef ? [`${e.name}=${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`] : []))
        .sort();
    expect(refs(objs)).toEqual(refs(rendered));
    expect(rendered.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name)).toEqual(['netdoctor-redis-auth']);
    const base = objs.filter((o) => o.kind !== 'Namespace' && o.kind !== 'ConfigMap').map((o) => `${o.kind}/${o.metadata.name}`);
    expect(base.sort()).toEqual(chart.sort());
  });

  it('kustomize base and chart defaults do not drift: same specs (labels aside), same settings', () => {
    const HELM_ONLY = ['helm.sh/chart', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/part-of'];
    const normalize = (v: any): any => {
      if (Array.isArray(v)) return v.map(normalize);
      if (v && typeof v === 'object') {
        return Object.fromEntries(
          Object.entries(v)
            .filter(([k]) => !HELM_ONLY.includes(k) && k !== 'env' && k !== 'envFrom' && k !== 'image')
            .map(([k, x]) => [k, normalize(x)]),
        );
      }
      return v;
    };
    const chart = helmTemplate('netdoctor', 'netdoctor');
    const base = parseYamlStream(execFileSync(kustomize, ['build', path.join(KUSTOMIZE, 'base')], { encoding: 'utf8' }));
    const specs = (objs: K8sObj[]) => Object.fromEntries(objs.filter((o) => o.spec).map((o) => [key(o), normalize(o.spec)]));
    expect(specs(base)).toEqual(specs(chart));
    // Every variable the chart sets is set by the base too (from netdoctor-config or a Secret).
    const config = (base.find((o) => o.kind === 'ConfigMap') as any).data as Record<string, string>;
    for (const name of ['netdoctor-serve']) {
      const chartEnv = chart.find((o) => o.metadata.name === name)!.spec!.template.spec.containers[0].env as { name: string; value?: string }[];
      const baseC = base.find((o) => o.metadata.name === name)!.spec!.template.spec.containers[0];
      const baseNames = new Set([...Object.keys(config), ...(baseC.env ?? []).map((e: { name: string }) => e.name)]);
      expect(chartEnv.map((e) => e.name).filter((n) => !baseNames.has(n))).toEqual([]);
      for (const e of chartEnv) if (e.value !== undefined && e.name in config) expect({ [e.name]: config[e.name] }).toEqual({ [e.name]: e.value });
    }
  });

  it("every netdoctor container of every rendering starts with a configuration netdoctor accepts (env as the kubelet expands it)", () => {
    const renderings: [string, K8sObj[]][] = [
      ['chart defaults', helmTemplate('netdoctor', 'netdoctor')],
      ['chart multi', helmTemplate('nd', 'netdoctor', ['ci/multi-values.yaml'])],
      ['chart external Redis', helmTemplate('netdoctor', 'netdoctor', ['ci/external-redis-values.yaml'])],
      ['chart HA', helmTemplate('netdoctor', 'netdoctor', ['ci/ha-values.yaml'])],
      ['chart remediation + CNI install', helmTemplate('netdoctor', 'netdoctor', [], ['--set', 'remediation.enabled=true', '--set', 'remediation.cniInstall=true'])],
      ['kustomize base', parseYamlStream(execFileSync(kustomize, ['build', path.join(KUSTOMIZE, 'base')], { encoding: 'utf8' }))],
      ['kustomize remediation', parseYamlStream(execFileSync(kustomize, ['build', path.join(KUSTOMIZE, 'overlays', 'remediation')], { encoding: 'utf8' }))],
    ];
    const refused: string[] = [];
    let checked = 0;
    for (const [name, objs] of renderings) {
      for (const { owner, container } of containersOf(objs).filter(({ container }) => ['serve', 'worker'].includes(container.args?.[0]))) {
        checked++;
        try {
          loadConfig(containerEnv(container, objs));
        } catch (e) {
          refused.push(`${name} ${key(owner)}/${container.name}: ${(e as Error).message}`);
        }
      }
    }
    expect(refused).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(renderings.length);
  });

  it('deploy/rbac (and deploy/rbac/remediation) applies cleanly', async () => {
    const ns = `nd-rbac-${suffix}`;
    // The files name namespace netdoctor; moved to a namespace of this run (the RBAC test may own netdoctor).
    const files = [...fs.readdirSync(RBAC).filter((f) => f.endsWith('.yaml')).map((f) => path.join(RBAC, f)), path.join(RBAC, 'remediation', 'remediator.yaml'), CNI_INSTALLER_FILE];
    const objs = files.flatMap(readYaml).map((o) => {
      const c = structuredClone(o) as any;
      if (c.kind === 'Namespace') c.metadata.name = ns;
      if (c.metadata.namespace) c.metadata.namespace = ns;
      for (const s of c.subjects ?? []) if (s.namespace) s.namespace = ns;
      return c as K8sObj;
    });
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [`Namespace/${ns}`, 'ServiceAccount/netdoctor', 'ClusterRole/netdoctor-reader', 'ClusterRoleBinding/netdoctor-reader', 'ClusterRole/netdoctor-remediator', 'ClusterRoleBinding/netdoctor-remediator', 'ClusterRole/netdoctor-cni-installer', 'ClusterRoleBinding/netdoctor-cni-installer'].sort(),
    );
    await namespace(ns);
    const r = await applyAll(objs);
    expect(r.failures).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.applied).toHaveLength(objs.length);
  });

  it.each([
    ['base', false],
    ['overlays/remediation', true],
  ] as const)('kustomize %s applies cleanly in its own namespace', async (dir, remediation) => {
    const ns = `nd-kust-${remediation ? 'rem' : 'base'}-${suffix}`;
    // An overlay beside nothing else, so the namespace (and the Namespace object) can be set per run.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nd-kustomize-'));
    try {
      fs.writeFileSync(
        path.join(tmp, 'kustomization.yaml'),
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${ns}\nresources:\n  - ${path.relative(tmp, path.join(KUSTOMIZE, dir))}\n`,
      );
      const objs = parseYamlStream(execFileSync(kustomize, ['build', tmp], { encoding: 'utf8' }));
      checkInvariants(objs, { remediation });
      const config = objs.find((o) => o.kind === 'ConfigMap') as any;
      expect(config.data.NETDOCTOR_REMEDIATION_ENABLED).toBe(String(remediation));
      await namespace(ns);
      const r = await applyAll(objs);
      expect(r.failures).toEqual([]);
      expect(r.podFailures).toEqual([]);
      expect(r.warnings).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("the chart's own roles, bound for real: the ServiceAccount's token runs a diagnosis; Secrets, exec and writes are forbidden; the remediator adds exactly its verbs", async () => {
    const ns = await namespace(`nd-helm-rbac-${suffix}`);
    const release = `nd-rbac-${suffix}`;
    const rbacOf = (objs: K8sObj[]) => objs.filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind!));
    const applyForReal = async (objs: K8sObj[]) => {
      for (const o of objs) {
        const r = await call(kc, 'PATCH', `${await rest.objectPath(o)}?fieldManager=${FIELD_MANAGER}&force=true`, o, 'application/apply-patch+yaml');
        expect({ obj: key(o), status: r.status }).toEqual({ obj: key(o), status: r.status >= 200 && r.status < 300 ? r.status : 'ok' });
        if (!o.metadata.namespace) clusterScoped.push(o);
      }
    };
    const readOnly = rbacOf(helmTemplate(release, ns));
    await applyForReal(readOnly);
    const sa = readOnly.find((o) => o.kind === 'ServiceAccount')!.metadata.name;
    const user = `system:serviceaccount:${ns}:${sa}`;
    const groups = ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'];

    /** SubjectAccessReview as the admin: what the real RBAC authorizer decides for the bot. */
    const can = async (verb: string, resource: string, group = '', subresource?: string): Promise<string> => {
      const r = await call(kc, 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user, groups, resourceAttributes: { verb, group, resource, subresource, namespace: resource === 'nodes' || resource === 'namespaces' ? undefined : ns } },
      });
      const allowed = (JSON.parse(r.body) as { status?: { allowed?: boolean } }).status?.allowed === true;
      return `${verb} ${group ? `${group}/` : ''}${resource}${subresource ? `/${subresource}` : ''}: ${allowed ? 'allowed' : 'forbidden'}`;
    };
    const matrix = async (cases: [string, string, string?, string?][]) => Promise.all(cases.map(([v, r, g, sub]) => can(v, r, g, sub)));
    const READS: [string, string, string?, string?][] = [
      ...['pods', 'services', 'endpoints', 'events', 'nodes', 'configmaps', 'namespaces'].flatMap((r) => ['get', 'list', 'watch'].map((v): [string, string] => [v, r])),
      ['list', 'endpointslices', 'discovery.k8s.io'],
      ...['daemonsets', 'deployments', 'replicasets', 'statefulsets'].map((r): [string, string, string] => ['list', r, 'apps']),
      ...['networkpolicies', 'ingresses', 'ingressclasses'].map((r): [string, string, string] => ['list', r, 'networking.k8s.io']),
      ['get', 'pods', '', 'log'],
      // Read authorization of requesters (NETDOCTOR_READ_ACCESS=checked) asks the apiserver.
      ['create', 'subjectaccessreviews', 'authorization.k8s.io'],
    ];
    const REMEDIATION: [string, string, string?, string?][] = [
      ...['daemonsets', 'deployments', 'statefulsets', 'replicasets'].map((r): [string, string, string] => ['patch', r, 'apps']),
      ['patch', 'services'],
      ['patch', 'configmaps'],
      ['patch', 'endpoints'],
      ['patch', 'endpointslices', 'discovery.k8s.io'],
      ['delete', 'pods'],
      ['create', 'networkpolicies', 'networking.k8s.io'],
      ['delete', 'networkpolicies', 'networking.k8s.io'],
    ];
    const NEVER: [string, string, string?, string?][] = [
      ['get', 'secrets'],
      ['list', 'secrets'],
      ['watch', 'secrets'],
      ['create', 'pods', '', 'exec'],
      ['get', 'pods', '', 'exec'],
      ['create', 'pods', '', 'attach'],
      ['create', 'pods', '', 'portforward'],
      ['create', 'pods'],
      ['update', 'pods'],
      ['patch', 'pods'],
      ['patch', 'nodes'],
      ['delete', 'deployments', 'apps'],
      ['update', 'daemonsets', 'apps'],
      ['create', 'deployments', 'apps'],
      ['delete', 'services'],
      ['delete', 'configmaps'],
      ['create', 'serviceaccounts', '', 'token'],
      ['impersonate', 'users'],
      ['impersonate', 'serviceaccounts'],
      ['create', 'clusterrolebindings', 'rbac.authorization.k8s.io'],
      ['escalate', 'clusterroles', 'rbac.authorization.k8s.io'],
      ['bind', 'clusterroles', 'rbac.authorization.k8s.io'],
      ['patch', 'networkpolicies', 'networking.k8s.io'],
    ];
    const allowedAll = (xs: string[]) => xs.map((x) => x.replace(/: (allowed|forbidden)$/, ': allowed'));
    const forbiddenAll = (xs: string[]) => xs.map((x) => x.replace(/: (allowed|forbidden)$/, ': forbidden'));

    // Read-only install: every read the checks do, nothing else.
    const reads = await matrix(READS);
    expect(reads).toEqual(allowedAll(reads));
    const noWrites = await matrix([...REMEDIATION, ...NEVER]);
    expect(noWrites).toEqual(forbiddenAll(noWrites));

    // A real diagnosis with the ServiceAccount's own token: no read is refused.
    const token = (
      JSON.parse(
        (
          await call(kc, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
            apiVersion: 'authentication.k8s.io/v1',
            kind: 'TokenRequest',
            spec: { expirationSeconds: 600 },
          })
        ).body,
      ) as { status: { token: string } }
    ).status.token;
    const admin = kc.getCurrentCluster()!;
    const botKc = new k8s.KubeConfig();
    botKc.loadFromOptions({
      clusters: [{ name: 'test', server: admin.server, caData: admin.caData, skipTLSVerify: false }],
      users: [{ name: 'netdoctor', token }],
      contexts: [{ name: 'test', cluster: 'test', user: 'netdoctor' }],
      currentContext: 'test',
    });
    const api = await KubeApi.fromKubeConfig(botKc);
    try {
      const workflows = loadWorkflows(CHECKS);
      for (const [workflow, target] of [['namespace-triage', { cluster: 'test', namespace: ns }], ['cluster-health', { cluster: 'test' }]] as const) {
        const report = await diagnose({ runId: 'rbac', log: silentLogger, clock: () => new Date() }, new LiveReader(api, { cluster: 'test' }), workflows.get(workflow)!, target);
        expect({ workflow, readErrors: report.readErrors, failedChecks: report.checks.filter((c) => c.status !== 'ok') }).toEqual({ workflow, readErrors: [], failedChecks: [] });
        expect(report.stats.apiCalls).toBeGreaterThan(0);
      }
      // And the token really is refused what the matrix says (not only the authorizer's answer).
      for (const [method, p, body] of [
        ['GET', `/api/v1/namespaces/${ns}/secrets`, undefined],
        ['POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }],
      ] as const) {
        await expect(api.request(p, { method, ...(body ? { body } : {}) })).rejects.toMatchObject({ status: 403 });
      }
    } finally {
      api.close();
    }

    // Opt-in remediation: exactly the remediation verbs are added.
    await applyForReal(rbacOf(helmTemplate(release, ns, [], ['--set', 'remediation.enabled=true'])).filter((o) => o.metadata.name.endsWith('-remediator')));
    const remediation = await matrix(REMEDIATION);
    expect(remediation).toEqual(allowedAll(remediation));
    const never = await matrix(NEVER);
    expect(never).toEqual(forbiddenAll(never));

    // Opt-in CNI install on top: create/delete of the kinds a CNI manifest holds, and no more.
    await applyForReal(rbacOf(helmTemplate(release, ns, [], ['--set', 'remediation.enabled=true', '--set', 'remediation.cniInstall=true'])).filter((o) => o.metadata.name.endsWith('-cni-installer')));
    const CNI_INSTALL: [string, string, string?, string?][] = [
      ...['serviceaccounts', 'configmaps'].flatMap((r) => ['create', 'delete'].map((v): [string, string] => [v, r])),
      ['create', 'daemonsets', 'apps'],
      ['delete', 'daemonsets', 'apps'],
      ['get', 'serviceaccounts'],
      ...['clusterroles', 'clusterrolebindings', 'roles', 'rolebindings'].flatMap((r) => ['get', 'create', 'delete'].map((v): [string, string, string] => [v, r, 'rbac.authorization.k8s.io'])),
    ];
    const install = await matrix(CNI_INSTALL);
    expect(install).toEqual(allowedAll(install));
    const stillNever = await matrix(NEVER.filter(([v, r, , sub]) => sub || !CNI_INSTALL.some(([v2, r2]) => v2 === v && r2 === r)));
    expect(stillNever).toEqual(forbiddenAll(stillNever));
    // No escalate/bind: a ClusterRole is creatable only with permissions the bot holds itself.
    const tokenApi = await KubeApi.fromKubeConfig(botKc);
    try {
      const role = (rules: unknown[]) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `nd-cni-agent-${suffix}` }, rules });
      const post = (body: unknown) => tokenApi.request('/apis/rbac.authorization.k8s.io/v1/clusterroles', { method: 'POST', query: { dryRun: 'All' }, body });
      await expect(post(role([{ apiGroups: [''], resources: ['pods', 'namespaces', 'nodes'], verbs: ['get', 'list', 'watch'] }]))).resolves.toMatchObject({ status: 201 });
      await expect(post(role([{ apiGroups: [''], resources: ['nodes/status'], verbs: ['patch', 'update'] }]))).rejects.toMatchObject({ status: 403 });
    } finally {
      tokenApi.close();
    }
  });
});
