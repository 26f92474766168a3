import { serviceStaleEndpoints } from '../../../src/checks/service-stale-endpoints';
import { viewOf } from '../../support/view';
import { loud, runOn, scenarioNames } from './scenario-view';
import { kubeadmConfigYaml } from './kube-proxy-fixtures';
import { pod } from './service-fixtures';

/*
 * No component logs anything for this fault: kube-proxy programs whatever addresses the hand-written objects hold.
 * The rules quoted: the Service docs (kubernetes.io/docs/concepts/services-networking/service, "Services without
 * selectors": "Endpoint IP addresses cannot be the cluster IPs of other Kubernetes Services, because kube-proxy
 * doesn't support virtual IPs as a destination"), and the mirroring controller's managed-by value
 * (pkg/controller/endpointslicemirroring: ControllerName = "endpointslicemirroring-controller.k8s.io").
 */
const NODE = `---
apiVersion: v1
kind: Node
metadata: {name: node-1}
spec: {podCIDR: 10.244.1.0/24, podCIDRs: [10.244.1.0/24]}
status: {addresses: [{type: InternalIP, address: 192.168.56.11}]}
` + kubeadmConfigYaml();
const service = (name: string, selector = '') => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: triton}
spec:
  clusterIP: 10.96.40.7
  ports: [{port: 3306, protocol: TCP, targetPort: 3306}]${selector ? `\n  selector: ${selector}` : ''}
`;
const endpoints = (name: string, addresses: string) => `---
apiVersion: v1
kind: Endpoints
metadata: {name: ${name}, namespace: triton, resourceVersion: '777'}
subsets:
- addresses: ${addresses}
  ports: [{port: 3306, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-x7k2p
  namespace: triton
  labels: {kubernetes.io/service-name: ${name}, endpointslice.kubernetes.io/managed-by: endpointslicemirroring-controller.k8s.io}
addressType: IPv4
endpoints: []
`;
const mysqlPod = pod('mysql-0', { labels: { app: 'mysql' }, ports: [{ containerPort: 3306 }], ip: '10.244.1.23' });
const run = (yaml: string) => serviceStaleEndpoints.run({ view: viewOf(yaml), namespace: 'triton', now: new Date() });

describe('service-stale-endpoints', () => {
  it('names a stale pod-network address and the pod that serves the port now (no targetRef: advice, no plan)', () => {
    const [f, ...rest] = run(NODE + mysqlPod + service('mysql-ext') + endpoints('mysql-ext', '[{ip: 10.244.1.9}]'));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'SVC-ENDPOINTS-STALE', severity: 'critical', rootCause: true, subject: { kind: 'Service', namespace: 'triton', name: 'mysql-ext' }, plan: null });
    expect(f!.summary).toContain('10.244.1.9, which no pod has');
    expect(f!.summary).toContain('mysql-0 (10.244.1.23)');
    expect(f!.evidence.map((e) => e.text)).toEqual(expect.arrayContaining(['no pod has 10.244.1.9', expect.stringContaining('10.244.0.0/16 (kubeadm-config podSubnet)')]));
    expect(f!.advice!.join('\n')).toContain('give Service mysql-ext a selector on their labels instead (e.g. app=mysql)');
  });

  it('plans the exact replacement when the address names its pod (targetRef), patching the Endpoints and not the mirrored slice', () => {
    const [f] = run(NODE + mysqlPod + service('mysql-ext') + endpoints('mysql-ext', '[{ip: 10.244.1.9, targetRef: {kind: Pod, name: mysql-0, namespace: triton}}]'));
    expect(f!.summary).toContain('Pod mysql-0, which 10.244.1.9 names, now has 10.244.1.23');
    expect(f!.plan!.operations).toEqual([
      {
        action: 'patch',
        target: { apiVersion: 'v1', kind: 'Endpoints', namespace: 'triton', name: 'mysql-ext' },
        patchType: 'json',
        patch: [
          { op: 'test', path: '/subsets/0/addresses/0/ip', value: '10.244.1.9' },
          { op: 'replace', path: '/subsets/0/addresses/0/ip', value: '10.244.1.23' },
        ],
        resourceVersion: '777',
      },
    ]);
  });

  it('flags a pod named by targetRef at an address outside the pod network, and a ClusterIP as a backend', () => {
    const [f] = run(NODE + mysqlPod + service('mysql-ext') + endpoints('mysql-ext', '[{ip: 10.245.1.23, targetRef: {kind: Pod, name: mysql-0}}]'));
    expect(f).toMatchObject({ code: 'SVC-ENDPOINTS-OUTSIDE-POD-NETWORK' });
    expect(f!.summary).toContain('outside the pod network');
    const [g] = run(NODE + mysqlPod + service('mysql-ext') + service('db').replace('10.96.40.7', '10.96.12.3') + endpoints('mysql-ext', '[{ip: 10.96.12.3}]'));
    expect(g).toMatchObject({ code: 'SVC-ENDPOINTS-CLUSTER-IP', plan: null });
    expect(g!.evidence.map((e) => e.text)).toContain('10.96.12.3 is the ClusterIP of Service triton/db: kube-proxy does not forward to virtual IPs');
  });

  it('flags a private address outside the pod network where pods of the namespace serve the port (a mistyped pod IP)', () => {
    const [f] = run(NODE + mysqlPod + service('mysql-ext') + endpoints('mysql-ext', '[{ip: 10.245.1.23}]'));
    expect(f).toMatchObject({ code: 'SVC-ENDPOINTS-OUTSIDE-POD-NETWORK', severity: 'critical' });
    expect(f!.evidence.map((e) => e.text)).toContain('10.245.1.23 is outside the pod network yet stands for pods of triton that serve port 3306');
    expect(f!.summary).toContain('mysql-0 (10.244.1.23)');
    // Look-alike: the same private address when no pod here serves the port is an external backend.
    expect(run(NODE + service('mysql-ext') + endpoints('mysql-ext', '[{ip: 10.245.1.23}]'))).toEqual([]);
  });

  it('calls a served private address stale when the cluster records no pod range at all', () => {
    const [f] = run(mysqlPod + service('mysql-ext') + endpoints('mysql-ext', '[{ip: 10.244.1.9}]'));
    expect(f).toMatchObject({ code: 'SVC-ENDPOINTS-STALE' });
    expect(f!.evidence.map((e) => e.text)).toContain('pod network: unknown (no node podCIDR, kubeadm podSubnet or CNI pool in view)');
  });

  it('reads hand-written EndpointSlices (no Endpoints) too, and warns when some addresses still work', () => {
    const slice = `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: mysql-ext-1, namespace: triton, resourceVersion: '9', labels: {kubernetes.io/service-name: mysql-ext}}
addressType: IPv4
ports: [{port: 3306, protocol: TCP}]
endpoints:
- addresses: [10.244.1.23]
- addresses: [10.244.1.50]
`;
    const [f] = run(NODE + mysqlPod + service('mysql-ext') + slice);
    expect(f).toMatchObject({ code: 'SVC-ENDPOINTS-STALE', severity: 'warning' });
    expect(f!.summary).toContain('1 of its 2 addresses');
  });

  it('stays silent for look-alikes: an external backend, a node address, live pod IPs, a selector Service, ExternalName', () => {
    expect(run(NODE + mysqlPod + service('mysql-ext') + endpoints('mysql-ext', '[{ip: 203.0.113.10}]'))).toEqual([]);
    expect(run(NODE + mysqlPod + service('mysql-ext') + endpoints('mysql-ext', '[{ip: 192.168.56.11, nodeName: node-1}]'))).toEqual([]);
    expect(run(NODE + mysqlPod + service('mysql-ext') + endpoints('mysql-ext', '[{ip: 10.244.1.23}]'))).toEqual([]);
    expect(run(NODE + mysqlPod + service('mysql', '{app: mysql}') + endpoints('mysql', '[{ip: 10.244.1.9}]'))).toEqual([]);
    const externalName = `---\napiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: triton}\nspec: {type: ExternalName, externalName: db.example.com}\n`;
    expect(run(NODE + externalName)).toEqual([]);
  });

  it.each(scenarioNames())('scenario %s: silent', (name) => {
    expect(loud(runOn(serviceStaleEndpoints, name))).toEqual([]);
  });
});
