// A synthetic offline dump of a large cluster, written straight to disk (no apiserver): namespaces
// of apps shaped like bench/synth.ts loads them (Deployment → ReplicaSet → Pods with statuses, a
// Service, a ConfigMap per 10 apps, 10 life-cycle Events per app), as `kubectl get -o yaml` prints
// them (no managedFields, as `netdoctor snapshot` writes). One multi-document YAML file per namespace.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dump } from 'js-yaml';
import { container, hash, runningStatus } from './synth';

/** Objects per app: Deployment, ReplicaSet, Service, 3 Pods, 10 Events, a tenth of a ConfigMap. */
const REPLICAS = 3;
const EVENTS_PER_APP = 10;
const PER_APP = 3 + REPLICAS + EVENTS_PER_APP + 0.1;
const APPS_PER_NAMESPACE = 180;
const STARTED = '2026-11-25T10:00:00Z';

const meta = (name: string, namespace: string, i: number, extra: object = {}) => ({
  name, namespace, uid: `${hash(`${namespace}/${name}`)}-0000-4000-8000-${String(i).padStart(12, '0')}`,
  resourceVersion: String(1000 + i), creationTimestamp: STARTED, ...extra,
});

/** The objects of one app, in the order kubectl would list them by kind. */
function appObjects(ns: string, a: number, ip: () => string): object[] {
  const app = `svc-${String(a).padStart(4, '0')}`;
  const labels = { app, tier: a % 3 === 0 ? 'frontend' : 'backend', 'app.kubernetes.io/part-of': ns };
  const podLabels = { ...labels, 'pod-template-hash': hash(app) };
  const spec = {
    containers: [container(app, `svc-${String((a + 1) % APPS_PER_NAMESPACE).padStart(4, '0')}`)],
    volumes: [{ name: 'config', configMap: { name: `${app}-config`, defaultMode: 420 } }],
    restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler',
  };
  const template = { metadata: { labels: podLabels }, spec };
  const rsName = `${app}-${hash(app)}`;
  const out: object[] = [];
  if (a % 10 === 0) out.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${app}-config`, ns, a, { labels }), data: { 'app.yaml': `listen: :8080\nupstream: ${app}-backend\n`.repeat(4) } });
  out.push({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta(app, ns, a, { labels, generation: 1 }),
    spec: { replicas: REPLICAS, selector: { matchLabels: { app } }, template },
    status: { observedGeneration: 1, replicas: REPLICAS, updatedReplicas: REPLICAS, readyReplicas: REPLICAS, availableReplicas: REPLICAS,
      conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: STARTED, lastTransitionTime: STARTED }] },
  });
  out.push({
    apiVersion: 'apps/v1', kind: 'ReplicaSet',
    metadata: meta(rsName, ns, a, { labels: podLabels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: app, uid: 'd', controller: true, blockOwnerDeletion: true }] }),
    spec: { replicas: REPLICAS, selector: { matchLabels: { app, 'pod-template-hash': hash(app) } }, template },
    status: { replicas: REPLICAS, fullyLabeledReplicas: REPLICAS, readyReplicas: REPLICAS, availableReplicas: REPLICAS, observedGeneration: 1 },
  });
  out.push({
    apiVersion: 'v1', kind: 'Service', metadata: meta(app, ns, a, { labels }),
    spec: { selector: { app }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], type: 'ClusterIP', clusterIP: `10.96.${(a >> 8) & 255}.${a & 255}` },
  });
  const pods: string[] = [];
  for (let r = 0; r < REPLICAS; r++) {
    const name = `${rsName}-${hash(`${app}/${r}`).slice(0, 5)}`;
    pods.push(name);
    out.push({
      apiVersion: 'v1', kind: 'Pod',
      metadata: meta(name, ns, a * REPLICAS + r, { labels: podLabels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: 'r', controller: true, blockOwnerDeletion: true }] }),
      spec: { ...spec, nodeName: `worker-${String((a * REPLICAS + r) % 200).padStart(4, '0')}` },
      status: runningStatus(ip(), STARTED),
    });
  }
  const reasons = [['Scheduled', 'Successfully assigned {pod} to worker'], ['Pulled', 'Container image "registry.example.com/app:1.4.2" already present on machine'],
    ['Created', 'Created container: app'], ['Started', 'Started container app'], ['Pulling', 'Pulling image "registry.example.com/app:1.4.2"']];
  for (let e = 0; e < EVENTS_PER_APP; e++) {
    const pod = pods[e % REPLICAS]!;
    const [reason, message] = reasons[e % reasons.length]!;
    const at = new Date(Date.parse(STARTED) + ((a * 7919 + e * 104729) % 86_400) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    out.push({
      apiVersion: 'v1', kind: 'Event', metadata: meta(`${pod}.${(0x180000000000 + a * EVENTS_PER_APP + e).toString(16)}`, ns, a * EVENTS_PER_APP + e),
      involvedObject: { apiVersion: 'v1', kind: 'Pod', namespace: ns, name: pod, uid: 'p', fieldPath: 'spec.containers{app}' },
      type: 'Normal', reason, message: message!.replace('{pod}', `${ns}/${pod}`),
      source: { component: 'kubelet', host: 'worker' }, reportingComponent: 'kubelet', reportingInstance: 'worker',
      firstTimestamp: at, lastTimestamp: at, count: 1,
    });
  }
  return out;
}

const toYaml = (docs: object[]): string => docs.map((d) => `---\n${dump(d, { lineWidth: -1, noRefs: true })}`).join('');

/** How the dump's files are written: multi-document YAML, or one JSON List per file (`kubectl get -o json`, compact). */
export type DumpFormat = 'yaml' | 'json';

const toJsonList = (docs: object[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: {}, items: docs });

/**
 * Writes a dump of about `objects` objects under `dir` (one `<namespace>.yaml` or `.json` each);
 * returns the exact object count and bytes written. Both formats hold the same objects.
 */
export function writeSyntheticDump(dir: string, objects: number, format: DumpFormat = 'yaml'): { objects: number; files: number; bytes: number } {
  fs.mkdirSync(dir, { recursive: true });
  const apps = Math.ceil(objects / PER_APP);
  let ipCounter = 0;
  const ip = () => {
    const i = ipCounter++;
    return `10.${64 + ((i >> 16) & 63)}.${(i >> 8) & 255}.${i & 255}`;
  };
  let written = 0;
  let bytes = 0;
  let files = 0;
  for (let first = 0; first < apps; first += APPS_PER_NAMESPACE) {
    const ns = `team-${String(first / APPS_PER_NAMESPACE).padStart(4, '0')}`;
    const docs: object[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, uid: hash(ns), creationTimestamp: STARTED, labels: { 'kubernetes.io/metadata.name': ns } } }];
    for (let a = first; a < Math.min(apps, first + APPS_PER_NAMESPACE); a++) docs.push(...appObjects(ns, a - first, ip));
    const text = format === 'json' ? toJsonList(docs) : toYaml(docs);
    fs.writeFileSync(path.join(dir, `${ns}.${format}`), text);
    written += docs.length;
    bytes += Buffer.byteLength(text);
    files++;
  }
  return { objects: written, files, bytes };
}

/**
 * One file of at least `bytes` bytes: the dump's namespace files one after another, repeated
 * (a valid multi-document stream, the shape `netdoctor snapshot` writes: one objects.yaml).
 */
export function writeLargeFile(dumpDir: string, file: string, bytes: number): number {
  const parts = fs.readdirSync(dumpDir).sort().map((f) => fs.readFileSync(path.join(dumpDir, f)));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  let written = 0;
  try {
    for (let i = 0; written < bytes; i++) written += fs.writeSync(fd, parts[i % parts.length]!);
  } finally {
    fs.closeSync(fd);
  }
  return written;
}
