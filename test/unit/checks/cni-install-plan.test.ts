// CNI-01 with an operator-supplied manifest: cni-not-running turns the ConfigMap into an install plan.
import { cniNotRunning } from '../../../src/checks/cni-not-running';
import { MANIFEST_KINDS } from '../../../src/checks/support/cni-manifest';
import { WRITABLE_RESOURCES, objectPath } from '../../../src/cluster/kube-writer';
import { FLANNEL_SANDBOX, WEAVE_SANDBOX, cluster, daemonSet, deployment, event, loud, node, pod, rsOf, runCheck } from './network-fixtures';

/** A small weave-like manifest: identity, RBAC, the agent DaemonSet (deliberately out of order). */
export const WEAVE_MANIFEST = `
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: weave-net
  namespace: kube-system
  labels: {name: weave-net}
spec:
  selector: {matchLabels: {name: weave-net}}
  template:
    metadata: {labels: {name: weave-net}}
    spec:
      serviceAccountName: weave-net
      hostNetwork: true
      containers:
        - name: weave
          image: weaveworks/weave-kube:2.8.1
          securityContext: {privileged: true}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: weave-net
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: weave-net}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: weave-net}
subjects: [{kind: ServiceAccount, name: weave-net, namespace: kube-system}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: weave-net
  namespace: kube-system
rules:
  - apiGroups: ['']
    resources: [pods, namespaces, nodes]
    verbs: [get, list, watch]
`;

function manifestConfigMap(manifest: string, opts: { name?: string; label?: string; namespace?: string } = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: opts.name ?? 'netdoctor-cni-manifest', namespace: opts.namespace ?? 'kube-system', labels: { 'netdoctor.io/cni': opts.label ?? 'weave-net' }, resourceVersion: '7' },
    data: { 'manifest.yaml': manifest },
  };
}

/** The seed lab: weave config on the node, no weave-net DaemonSet, app pods stuck. */
function weaveMissing(extra: Record<string, unknown>[] = []) {
  return cluster([
    node('node1'),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } },
    ...deployment('triton', 'webapp', { app: 'webapp' }),
    pod('triton', 'webapp-5d4f8c7b9-bbbbb', { owner: rsOf('webapp'), labels: { app: 'webapp' }, shape: 'creating' }),
    event('Pod', 'triton', 'webapp-5d4f8c7b9-bbbbb', 'FailedCreatePodSandBox', WEAVE_SANDBOX, { count: 12 }),
    ...extra,
  ]);
}

const targets = (f: { plan?: { operations: { action: string; target: { kind: string; namespace?: string; name: string } }[] } | null }): string[] =>
  (f.plan?.operations ?? []).map((o) => `${o.action} ${o.target.kind} ${o.target.namespace ?? '-'}/${o.target.name}`);

describe('cni-not-running: install plan from the operators\' manifest ConfigMap', () => {
  it('turns the manifest into creates, identities and RBAC before the DaemonSet, high risk, verified by the rollout', () => {
    const [f, ...rest] = runCheck(cniNotRunning, weaveMissing([manifestConfigMap(WEAVE_MANIFEST)]), 'triton');
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, subject: { kind: 'DaemonSet', namespace: 'kube-system', name: 'weave-net' } });
    expect(targets(f!)).toEqual([
      'create ServiceAccount kube-system/weave-net',
      'create ClusterRole -/weave-net',
      'create ClusterRoleBinding -/weave-net',
      'create DaemonSet kube-system/weave-net',
    ]);
    const plan = f!.plan!;
    expect(plan).toMatchObject({ risk: 'high', verify: { check: 'cni-not-running', subject: { kind: 'DaemonSet', namespace: 'kube-system', name: 'weave-net' }, waitFor: 'rollout' } });
    expect(plan.effect).toMatch(/privileged, hostNetwork/);
    expect(plan.summary).toContain('ConfigMap kube-system/netdoctor-cni-manifest');
    // Bodies are the manifest's objects, provenance annotated, namespace settled (a ClusterRole has none).
    const ds = plan.operations[3]!.body as { metadata: { annotations: Record<string, string> }; spec: { template: { spec: { containers: { image: string }[] } } } };
    expect(ds.metadata.annotations['netdoctor.io/installed-from']).toBe('kube-system/netdoctor-cni-manifest');
    expect(ds.spec.template.spec.containers[0]!.image).toBe('weaveworks/weave-kube:2.8.1');
    expect((plan.operations[1]!.body as { metadata: Record<string, unknown> }).metadata.namespace).toBeUndefined();
    expect(f!.evidence.some((e) => e.text.includes('ConfigMap kube-system/netdoctor-cni-manifest') && e.command?.includes('manifest\\.yaml'))).toBe(true);
    expect(f!.advice![0]).toMatch(/approve the plan/i);
    // The same manifest gives the same plan id.
    expect(runCheck(cniNotRunning, weaveMissing([manifestConfigMap(WEAVE_MANIFEST)]), 'triton')[0]!.plan!.id).toBe(plan.id);
  });

  it('defaults namespaced objects without a namespace to kube-system, accepts the family as label, and skips an existing Namespace', () => {
    const manifest = `apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n---\n${WEAVE_MANIFEST.replace(/\n {2}namespace: kube-system/g, '')}`;
    const [f] = runCheck(cniNotRunning, weaveMissing([manifestConfigMap(manifest, { label: 'weave' })]), 'triton');
    expect(targets(f!)).toEqual([
      'create ServiceAccount kube-system/weave-net',
      'create ClusterRole -/weave-net',
      'create ClusterRoleBinding -/weave-net',
      'create DaemonSet kube-system/weave-net',
    ]);
    expect(f!.evidence.some((e) => e.text.includes('skipped: Namespace kube-system (exists)'))).toBe(true);
  });

  it('without a ConfigMap: advice only, saying how to configure one', () => {
    const [f] = runCheck(cniNotRunning, weaveMissing(), 'triton');
    expect(f!.plan).toBeUndefined();
    const advice = f!.advice!.join('\n');
    expect(advice).toContain('kubectl apply -f https://github.com/weaveworks/weave');
    expect(advice).toContain('kubectl -n kube-system create configmap netdoctor-cni-manifest --from-file=manifest.yaml=<manifest file>');
    expect(advice).toContain('netdoctor.io/cni=weave');
  });

  it('ignores a manifest ConfigMap for another CNI, or outside kube-system', () => {
    for (const cm of [manifestConfigMap(WEAVE_MANIFEST, { label: 'flannel' }), manifestConfigMap(WEAVE_MANIFEST, { namespace: 'triton' })]) {
      const [f] = runCheck(cniNotRunning, weaveMissing([cm]), 'triton');
      expect(f!.plan).toBeUndefined();
      expect(f!.advice!.join('\n')).toContain('create configmap netdoctor-cni-manifest');
    }
  });

  it.each([
    ['does not parse', 'kind: DaemonSet\nmetadata: {name: weave-net\n', /does not parse/],
    ['has no agent DaemonSet', WEAVE_MANIFEST.split('---').slice(1).join('---'), /holds no Weave Net agent DaemonSet/],
    ['holds a Secret', `${WEAVE_MANIFEST}---\napiVersion: v1\nkind: Secret\nmetadata: {name: weave-passwd, namespace: kube-system}\n`, /never writes Secrets/],
    ['holds a kind netdoctor does not install', `${WEAVE_MANIFEST}---\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: weave}\n`, /does not install \(PodSecurityPolicy\)/],
    ['uses an old apiVersion', WEAVE_MANIFEST.replace('apiVersion: apps/v1', 'apiVersion: extensions/v1beta1'), /apiVersion extensions\/v1beta1/],
    ['creates a namespace that does not exist', `apiVersion: v1\nkind: Namespace\nmetadata: {name: weave}\n---\n${WEAVE_MANIFEST}`, /kubectl create namespace weave/],
    ['is empty', '', /no `manifest.yaml` key/],
  ])('a manifest that %s: advice explaining why, no plan', (_what, manifest, why) => {
    const [f] = runCheck(cniNotRunning, weaveMissing([manifestConfigMap(manifest)]), 'triton');
    expect(f!.plan).toBeUndefined();
    expect(f!.severity).toBe('critical');
    expect(f!.advice![0]).toMatch(/proposes no install plan: ConfigMap kube-system\/netdoctor-cni-manifest/);
    expect(f!.advice![0]).toMatch(why);
    expect(f!.advice!.join('\n')).toContain('kubectl apply -f https://github.com/weaveworks/weave');
    expect(f!.evidence.some((e) => e.text.includes('cannot be installed'))).toBe(true);
  });

  it('no plan when the agent may run in a namespace the run did not read (flannel in kube-flannel)', () => {
    const flannel = `apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: kube-flannel-ds, namespace: kube-flannel}\nspec:\n  selector: {matchLabels: {app: flannel}}\n  template:\n    metadata: {labels: {app: flannel}}\n    spec: {containers: [{name: kube-flannel, image: flannel:1}]}\n`;
    const view = cluster([
      node('node1'),
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-flannel' } },
      manifestConfigMap(flannel, { label: 'flannel' }),
      pod('triton', 'mysql', { shape: 'creating' }),
      event('Pod', 'triton', 'mysql', 'FailedCreatePodSandBox', FLANNEL_SANDBOX, { count: 20 }),
    ]);
    const [f] = runCheck(cniNotRunning, view, 'triton');
    expect(f!.plan).toBeUndefined();
    expect(f!.advice![0]).toContain('only when it could read kube-flannel: re-run the diagnosis cluster-wide');
    // Cluster-wide, the same manifest gives the plan.
    const [g] = runCheck(cniNotRunning, view, undefined);
    expect(g!.plan!.operations.map((o) => `${o.target.namespace}/${o.target.name}`)).toEqual(['kube-flannel/kube-flannel-ds']);
  });

  it('two manifest ConfigMaps for the same CNI: ambiguous, no plan', () => {
    const [f] = runCheck(cniNotRunning, weaveMissing([manifestConfigMap(WEAVE_MANIFEST), manifestConfigMap(WEAVE_MANIFEST, { name: 'weave-manifest-2' })]), 'triton');
    expect(f!.plan).toBeUndefined();
    expect(f!.advice![0]).toContain('keep exactly one');
  });

  it('look-alike: the DaemonSet exists but is still starting — no install plan, only a note', () => {
    const view = weaveMissing([
      manifestConfigMap(WEAVE_MANIFEST),
      daemonSet('kube-system', 'weave-net', { ready: 0, ageMin: 1 }),
      pod('kube-system', 'weave-net-new01', { owner: { kind: 'DaemonSet', name: 'weave-net' }, labels: { name: 'weave-net' }, shape: 'creating', ageMin: 1, hostNetwork: true }),
    ]);
    const findings = runCheck(cniNotRunning, view, 'triton');
    expect(loud(findings)).toHaveLength(0);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'info', title: 'CNI agent weave-net is still starting' });
    expect(findings[0]!.plan).toBeUndefined();
  });

  it('every kind a manifest may hold is one the remediation writer can create and delete (never Secrets)', () => {
    for (const k of MANIFEST_KINDS) {
      expect(WRITABLE_RESOURCES[k.kind]).toMatchObject({ apiVersion: k.apiVersion, namespaced: k.namespaced });
    }
    expect(objectPath({ kind: 'ClusterRole', name: 'weave-net' })).toBe('/apis/rbac.authorization.k8s.io/v1/clusterroles/weave-net');
    expect(objectPath({ kind: 'ServiceAccount', namespace: 'kube-system', name: '' })).toBe('/api/v1/namespaces/kube-system/serviceaccounts');
    expect(objectPath({ kind: 'RoleBinding', namespace: 'kube-system', name: 'weave-net' })).toBe('/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/rolebindings/weave-net');
    expect(() => objectPath({ kind: 'Secret', namespace: 'kube-system', name: 'x' })).toThrow(/cannot write Secret/);
  });
});
