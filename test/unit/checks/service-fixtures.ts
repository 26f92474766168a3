/** Small YAML builders for Service-side fixtures (namespace triton unless told). */
export interface PodOpts {
  ns?: string;
  labels?: Record<string, string>;
  ports?: { containerPort: number; name?: string; protocol?: string }[];
  env?: Record<string, string>;
  ready?: boolean;
  phase?: string;
  waiting?: string;
  owner?: { kind: string; name: string };
  ip?: string;
  readinessProbe?: boolean;
}

const flow = (o: unknown): string => JSON.stringify(o);

export function pod(name: string, o: PodOpts = {}): string {
  const ready = o.ready ?? true;
  const owner = o.owner ? `\n  ownerReferences: [{apiVersion: apps/v1, kind: ${o.owner.kind}, name: ${o.owner.name}, controller: true, uid: u}]` : '';
  const env = Object.entries(o.env ?? {}).map(([n, v]) => ({ name: n, value: v }));
  const waiting = o.waiting ? `state: {waiting: {reason: ${o.waiting}}}` : `state: {running: {startedAt: '2026-03-01T06:29:00Z'}}`;
  return `---
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${o.ns ?? 'triton'}
  resourceVersion: '100'
  labels: ${flow(o.labels ?? {})}${owner}
spec:
  nodeName: node-1
  containers:
  - name: main
    image: example
    ports: ${flow(o.ports ?? [])}
    env: ${flow(env)}${o.readinessProbe ? '\n    readinessProbe: {httpGet: {path: /ready, port: 8080}}' : ''}
status:
  phase: ${o.phase ?? 'Running'}
  podIP: ${o.ip ?? '10.32.0.9'}
  conditions: [{type: Ready, status: '${ready ? 'True' : 'False'}'}]
  containerStatuses: [{name: main, ready: ${ready}, restartCount: 0, ${waiting}}]
`;
}

export function deployment(name: string, o: PodOpts & { replicas?: number; withPods?: number } = {}): string {
  const ns = o.ns ?? 'triton';
  const labels = o.labels ?? { app: name };
  const env = Object.entries(o.env ?? {}).map(([n, v]) => ({ name: n, value: v }));
  let out = `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}, resourceVersion: '500'}
spec:
  replicas: ${o.replicas ?? 1}
  selector: {matchLabels: ${flow(labels)}}
  template:
    metadata: {labels: ${flow(labels)}}
    spec:
      containers:
      - name: main
        image: example
        ports: ${flow(o.ports ?? [])}
        env: ${flow(env)}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: ${name}-5d4f
  namespace: ${ns}
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: ${name}, controller: true, uid: d}]
spec:
  selector: {matchLabels: ${flow(labels)}}
  template:
    metadata: {labels: ${flow(labels)}}
    spec: {containers: [{name: main, image: example}]}
`;
  for (let i = 0; i < (o.withPods ?? o.replicas ?? 1); i++) {
    out += pod(`${name}-5d4f-x${i}`, { ...o, labels: { ...labels, 'pod-template-hash': '5d4f' }, owner: { kind: 'ReplicaSet', name: `${name}-5d4f` }, ip: `10.32.1.${i + 1}` });
  }
  return out;
}

export function service(name: string, o: { ns?: string; selector?: Record<string, string> | null; ports?: { port: number; targetPort?: number | string; name?: string; protocol?: string }[] } = {}): string {
  const selector = o.selector === null ? '' : `\n  selector: ${flow(o.selector ?? { app: name })}`;
  return `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${o.ns ?? 'triton'}, resourceVersion: '42'}
spec:
  type: ClusterIP
  clusterIP: 10.96.0.10${selector}
  ports: ${flow(o.ports ?? [{ port: 80, targetPort: 8080, protocol: 'TCP' }])}
`;
}

export function slice(svc: string, endpoints: { ip: string; pod: string; ready: boolean }[], o: { ns?: string; port?: number } = {}): string {
  const ns = o.ns ?? 'triton';
  return `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${svc}-abc12
  namespace: ${ns}
  labels: {kubernetes.io/service-name: ${svc}}
addressType: IPv4
endpoints: ${flow(endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready, serving: e.ready, terminating: false }, targetRef: { kind: 'Pod', namespace: ns, name: e.pod } })))}
ports: [{port: ${o.port ?? 8080}, protocol: TCP}]
`;
}

export function event(podName: string, reason: string, message: string, o: { ns?: string; type?: string; count?: number } = {}): string {
  return `---
apiVersion: v1
kind: Event
metadata: {name: ${podName}.${reason.toLowerCase()}, namespace: ${o.ns ?? 'triton'}}
involvedObject: {kind: Pod, name: ${podName}, namespace: ${o.ns ?? 'triton'}}
reason: ${reason}
message: ${flow(message)}
type: ${o.type ?? 'Warning'}
count: ${o.count ?? 1}
lastTimestamp: '2026-03-01T06:39:00Z'
`;
}

export function networkPolicy(name: string, spec: Record<string, unknown>, ns = 'triton'): string {
  return `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ${name}, namespace: ${ns}, resourceVersion: '77'}
spec: ${flow(spec)}
`;
}

/** The seed's 2-tier app, healthy: webapp-mysql (env DB_Host=mysql) → Service mysql → Pod mysql. */
export const TWO_TIER = [
  pod('mysql', { labels: { name: 'mysql' }, ports: [{ containerPort: 3306 }], env: { MYSQL_ROOT_PASSWORD: 'paswrd' }, ip: '10.32.0.5' }),
  deployment('webapp-mysql', { labels: { name: 'webapp-mysql' }, ports: [{ containerPort: 8080 }], env: { DB_Host: 'mysql', DB_User: 'root', DB_Password: 'paswrd' } }),
  service('mysql', { selector: { name: 'mysql' }, ports: [{ port: 3306, targetPort: 3306, protocol: 'TCP' }] }),
  service('web-service', { selector: { name: 'webapp-mysql' }, ports: [{ port: 8080, targetPort: 8080, protocol: 'TCP' }] }),
].join('');

/** A DaemonSet of the pod network (flannel's name and labels as in kube-flannel.yml; Canal's for the enforcing case). */
export const cniAgent = (ns: string, name: string, labels: Record<string, string>): string => `---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {matchLabels: ${JSON.stringify(labels)}}
  template: {metadata: {labels: ${JSON.stringify(labels)}}, spec: {containers: [{name: agent, image: x}]}}
`;
export const FLANNEL = cniAgent('kube-flannel', 'kube-flannel-ds', { app: 'flannel' });
