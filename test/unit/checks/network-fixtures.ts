import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterSnapshot } from '../../../src/cluster/snapshot';
import type { Check } from '../../../src/domain/check';
import type { FindingDraft } from '../../../src/domain/finding';
import { SCENARIO_DIR } from '../../support/scenarios';
import { viewOf } from '../../support/view';

/** Small object builders for the CNI / CoreDNS / pod check fixtures (JSON is YAML, so viewOf reads them). */
export const NOW = new Date('2026-03-01T07:00:00Z');
export const ago = (minutes: number): string => new Date(NOW.getTime() - minutes * 60_000).toISOString();

type Obj = Record<string, unknown>;

export function cluster(objects: Obj[], logs: Record<string, string> = {}): ClusterSnapshot {
  return viewOf(objects.map((o) => JSON.stringify(o)).join('\n---\n'), logs);
}

export function node(name: string, opts: { ready?: boolean; message?: string; networkUnavailable?: { reason?: string; message?: string } } = {}): Obj {
  const conditions: Obj[] = [
    opts.ready === false
      ? { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: opts.message ?? 'PLEG is not healthy' }
      : { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
  ];
  if (opts.networkUnavailable) conditions.push({ type: 'NetworkUnavailable', status: 'True', lastTransitionTime: ago(30), ...opts.networkUnavailable });
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, creationTimestamp: ago(600) }, status: { conditions } };
}

export type PodShape = 'running' | 'creating' | 'crashloop' | 'pending' | 'notready' | 'imagepull';

export interface PodOpts {
  owner?: { kind: string; name: string };
  labels?: Record<string, string>;
  node?: string;
  shape?: PodShape;
  ageMin?: number;
  restarts?: number;
  hostNetwork?: boolean;
  containers?: string[];
  ports?: Obj[];
}

export function pod(namespace: string, name: string, o: PodOpts = {}): Obj {
  const shape = o.shape ?? 'running';
  const containers = o.containers ?? [name.replace(/-[a-z0-9]{5}$/, '').replace(/-[a-z0-9]{8,10}$/, '')];
  const ready = shape === 'running';
  const waiting =
    shape === 'creating' ? 'ContainerCreating' : shape === 'crashloop' ? 'CrashLoopBackOff' : shape === 'imagepull' ? 'ImagePullBackOff' : undefined;
  const status: Obj = {
    phase: shape === 'running' || shape === 'crashloop' || shape === 'notready' ? 'Running' : 'Pending',
    startTime: ago(o.ageMin ?? 60),
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: ago(o.ageMin ?? 60) }],
  };
  if (shape !== 'pending') {
    status.containerStatuses = containers.map((c) => ({
      name: c,
      ready,
      restartCount: o.restarts ?? (shape === 'crashloop' ? 6 : 0),
      state: waiting ? { waiting: { reason: waiting } } : { running: { startedAt: ago(o.ageMin ?? 60) } },
      ...(shape === 'crashloop' ? { lastState: { terminated: { exitCode: 1, reason: 'Error' } } } : {}),
    }));
    if (shape !== 'creating' && shape !== 'imagepull') status.podIP = o.hostNetwork ? '172.17.0.12' : '10.32.0.9';
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      creationTimestamp: ago(o.ageMin ?? 60),
      labels: o.labels ?? {},
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: o.owner.kind, name: o.owner.name, controller: true }] } : {}),
    },
    spec: {
      ...(shape === 'pending' ? {} : { nodeName: o.node ?? 'node1' }),
      ...(o.hostNetwork ? { hostNetwork: true } : {}),
      containers: containers.map((c) => ({ name: c, image: `${c}:1`, ...(o.ports ? { ports: o.ports } : {}) })),
    },
    status,
  };
}

export function daemonSet(
  namespace: string,
  name: string,
  o: { labels?: Record<string, string>; desired?: number; ready?: number; updated?: number; ageMin?: number; generation?: number; observed?: number } = {},
): Obj {
  const labels = o.labels ?? { name };
  const desired = o.desired ?? 1;
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace, creationTimestamp: ago(o.ageMin ?? 600), generation: o.generation ?? 1, resourceVersion: '100' },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image: `${name}:1` }] } } },
    status: {
      desiredNumberScheduled: desired,
      currentNumberScheduled: desired,
      numberReady: o.ready ?? desired,
      updatedNumberScheduled: o.updated ?? desired,
      observedGeneration: o.observed ?? o.generation ?? 1,
    },
  };
}

let eventSeq = 0;
export function event(kind: string, namespace: string, name: string, reason: string, message: string, o: { count?: number; type?: string; lastMin?: number } = {}): Obj {
  eventSeq += 1;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${name}.${eventSeq}`, namespace },
    involvedObject: { apiVersion: 'v1', kind, name, namespace },
    reason,
    message,
    type: o.type ?? 'Warning',
    count: o.count ?? 1,
    firstTimestamp: ago((o.lastMin ?? 1) + 30),
    lastTimestamp: ago(o.lastMin ?? 1),
  };
}

export const WEAVE_SANDBOX =
  'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "430005175c4c7810996d3481f0dbc3ec01103d6abcc5beec5db4b3f1eae35047": plugin type="weave-net" name="weave" failed (add): unable to allocate IP address: Post "http://127.0.0.1:6784/ip/430005175c4c7810996d3481f0dbc3ec01103d6abcc5beec5db4b3f1eae35047": dial tcp 127.0.0.1:6784: connect: connection refused';
export const FLANNEL_SANDBOX =
  'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9": plugin type="flannel" failed (add): loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory';
export const CALICO_SANDBOX =
  'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "abc": plugin type="calico" failed (add): stat /var/lib/calico/nodename: no such file or directory: check that the calico/node container is running and has mounted /var/lib/calico/';

export function deployment(namespace: string, name: string, labels: Record<string, string>, o: { replicas?: number; ports?: Obj[]; dnsPolicy?: string } = {}): Obj[] {
  const rs = `${name}-5d4f8c7b9`;
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels, resourceVersion: '42' },
      spec: {
        replicas: o.replicas ?? 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { ...(o.dnsPolicy ? { dnsPolicy: o.dnsPolicy } : {}), containers: [{ name, image: `${name}:1`, ...(o.ports ? { ports: o.ports } : {}) }] },
        },
      },
    },
    { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: rs, namespace, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, controller: true }] } },
  ];
}

/** The ReplicaSet name `deployment()` creates, for pod owners. */
export const rsOf = (deploymentName: string): { kind: string; name: string } => ({ kind: 'ReplicaSet', name: `${deploymentName}-5d4f8c7b9` });

/** A shared scenario as a view (objects.yaml + logs/<ns>/<pod>/<container>[.previous].log). */
export function scenario(name: string): ClusterSnapshot {
  const dir = join(SCENARIO_DIR, name);
  const logs: Record<string, string> = {};
  const logDir = join(dir, 'logs');
  if (existsSync(logDir)) {
    for (const ns of readdirSync(logDir))
      for (const p of readdirSync(join(logDir, ns)))
        for (const file of readdirSync(join(logDir, ns, p))) {
          const m = /^(.+?)(\.previous)?\.log$/.exec(file);
          if (m) logs[`${ns}/${p}/${m[1]}${m[2] ? '#previous' : ''}`] = readFileSync(join(logDir, ns, p, file), 'utf8');
        }
  }
  return viewOf(readFileSync(join(dir, 'objects.yaml'), 'utf8'), logs);
}

export const scenarioNames = (): string[] => (existsSync(SCENARIO_DIR) ? readdirSync(SCENARIO_DIR).filter((d) => existsSync(join(SCENARIO_DIR, d, 'objects.yaml'))).sort() : []);

export const runCheck = (check: Check, view: ClusterSnapshot, namespace?: string, now: Date = NOW): FindingDraft[] => check.run({ view, namespace, now });

export const loud = (findings: FindingDraft[]): FindingDraft[] => findings.filter((f) => f.severity !== 'info');

/** Everything a reader sees of a finding, lower-cased, for `mentions` assertions. */
export const textOf = (f: FindingDraft): string => JSON.stringify([f.title, f.summary, f.evidence, f.advice, f.subject]).toLowerCase();
