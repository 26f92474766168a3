import { corednsRbac } from '../../../src/checks/coredns-rbac';
import { cluster, deployment, pod, rsOf, runCheck, textOf } from './network-fixtures';

/*
 * The lines as client-go's reflector words them inside CoreDNS's kubernetes plugin: network-faults.md DNS-07 quotes
 * CoreDNS 1.9 (client-go 0.24); the second is CoreDNS 1.15's on the real node (test/faults/coredns-rbac-forbidden.ts),
 * here for namespaces.
 */
const SLICES =
  '[ERROR] plugin/kubernetes: pkg/mod/k8s.io/client-go@v0.24.4/tools/cache/reflector.go:167: Failed to watch *v1.EndpointSlice: failed to list *v1.EndpointSlice: endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:kube-system:coredns" cannot list resource "endpointslices" in API group "discovery.k8s.io" at the cluster scope';
const NAMESPACES_1_15 =
  '[ERROR] plugin/kubernetes: Failed to watch: failed to list *v1.Namespace: namespaces is forbidden: User "system:serviceaccount:kube-system:coredns" cannot list resource "namespaces" in API group "" at the cluster scope logger="UnhandledError" reflector="k8s.io/client-go@v0.37.1/tools/cache/reflector.go:343" type="*v1.Namespace"';
const WAITING = '[INFO] plugin/ready: Still waiting on: "kubernetes"';
const API_DOWN = '[ERROR] plugin/kubernetes: pkg/mod/k8s.io/client-go@v0.24.4/tools/cache/reflector.go:167: failed to list *v1.Service: Get "https://10.96.0.1:443/api/v1/services?limit=500&resourceVersion=0": dial tcp 10.96.0.1:443: i/o timeout';

const labels = { 'k8s-app': 'kube-dns' };

function coreDns(shape: 'notready' | 'running', logs: Record<string, string>) {
  return cluster(
    [
      ...deployment('kube-system', 'coredns', labels),
      ...['aaaaa', 'bbbbb'].map((s) => pod('kube-system', `coredns-5d4f8c7b9-${s}`, { owner: rsOf('coredns'), labels, shape, containers: ['coredns'] })),
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { selector: labels } },
    ],
    logs,
  );
}

const current = (lines: string[], pods = ['aaaaa', 'bbbbb']): Record<string, string> =>
  Object.fromEntries(pods.map((p) => [`kube-system/coredns-5d4f8c7b9-${p}/coredns`, `${lines.join('\n')}\n`]));

describe('coredns-rbac', () => {
  it('names the ClusterRole and every resource the logs say CoreDNS may not list, with the patch that adds them', () => {
    const findings = runCheck(corednsRbac, coreDns('notready', current([WAITING, SLICES, NAMESPACES_1_15, WAITING])), 'triton');
    expect(findings).toHaveLength(1);
    const [f] = findings;
    expect(f).toMatchObject({ code: 'DNS-RBAC-FORBIDDEN', severity: 'critical', rootCause: true, subject: { kind: 'ClusterRole', name: 'system:coredns' } });
    expect(f!.title).toContain('endpointslices.discovery.k8s.io, namespaces');
    expect(f!.summary).toContain('ServiceAccount kube-system/coredns');
    const patch = f!.advice!.find((a) => a.startsWith('Add the missing rules'))!;
    expect(JSON.parse(/-p '(.*)'$/.exec(patch)![1]!)).toEqual([
      { op: 'add', path: '/rules/-', value: { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] } },
      { op: 'add', path: '/rules/-', value: { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] } },
    ]);
    expect(textOf(f!)).toContain('kubectl auth can-i list endpointslices.discovery.k8s.io --as=system:serviceaccount:kube-system:coredns');
    // kube-dns without endpoints and the unready pods are its symptoms.
    expect(f!.explains).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'Service', name: 'kube-dns' }), expect.objectContaining({ kind: 'Deployment', name: 'coredns' })]));
  });

  it('is quiet for a Ready CoreDNS whose log still has the line (RBAC fixed since) and for an unready one that cannot reach the API', () => {
    expect(runCheck(corednsRbac, coreDns('running', current([SLICES])), 'triton')).toEqual([]);
    expect(runCheck(corednsRbac, coreDns('notready', current([WAITING, API_DOWN])), 'triton')).toEqual([]);
    expect(runCheck(corednsRbac, coreDns('notready', {}), 'triton')).toEqual([]);
  });

  it('is a warning while another replica serves', () => {
    const view = cluster(
      [
        ...deployment('kube-system', 'coredns', labels),
        pod('kube-system', 'coredns-5d4f8c7b9-aaaaa', { owner: rsOf('coredns'), labels, shape: 'notready', containers: ['coredns'] }),
        pod('kube-system', 'coredns-5d4f8c7b9-bbbbb', { owner: rsOf('coredns'), labels, shape: 'running', containers: ['coredns'] }),
      ],
      current([SLICES], ['aaaaa']),
    );
    expect(runCheck(corednsRbac, view, 'triton')).toMatchObject([{ severity: 'warning' }]);
  });
});
