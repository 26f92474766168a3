import { parse, stringify } from 'yaml';

/** The ConfigMap (in the namespace) that declares the namespace's networking intent, and its key. */
export const INTENT_CONFIGMAP = 'netdoctor-intent';
export const INTENT_KEY = 'intent.yaml';

export interface PortIntent {
  name?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  protocol?: string;
}

export interface ServiceIntent {
  name: string;
  type?: string;
  ports?: PortIntent[];
  /** The workload whose pods the Service must select: `deployment/webapp-mysql`, `statefulset/db`, `pod/mysql`. */
  targets?: string;
}

/** An expected connection: `from` a workload (or `any`) `to` a Service as `name[.namespace]:port`. */
export interface ConnectionIntent {
  from: string;
  to: string;
}

/** What a namespace's networking is meant to be (netdoctor.intent/v1). */
export interface Intent {
  services: ServiceIntent[];
  connections: ConnectionIntent[];
  /** Objects that must exist, as `kind/name`. */
  required: string[];
}

const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const KIND_NAME = /^(service|deployment|statefulset|daemonset|pod|configmap|networkpolicy)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const SERVICE_PORT = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)?:\d{1,5}$/;

const isPort = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) < 65536;

function port(raw: unknown, where: string): PortIntent {
  const p = (raw ?? {}) as Record<string, unknown>;
  if (!isPort(p.port)) throw new Error(`${where}.port must be a port number (1-65535)`);
  if (p.nodePort !== undefined && !isPort(p.nodePort)) throw new Error(`${where}.nodePort must be a port number`);
  if (p.targetPort !== undefined && !isPort(p.targetPort) && typeof p.targetPort !== 'string') throw new Error(`${where}.targetPort must be a port number or name`);
  if (p.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(p.protocol as string)) throw new Error(`${where}.protocol must be TCP, UDP or SCTP`);
  return {
    ...(typeof p.name === 'string' ? { name: p.name } : {}),
    port: p.port,
    ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}),
    ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}),
    ...(p.protocol !== undefined ? { protocol: p.protocol as string } : {}),
  };
}

function service(raw: unknown, i: number): ServiceIntent {
  const s = (raw ?? {}) as Record<string, unknown>;
  const where = `services[${i}]`;
  if (typeof s.name !== 'string' || !s.name) throw new Error(`${where}.name is required`);
  if (s.type !== undefined && !SERVICE_TYPES.includes(s.type as string)) throw new Error(`${where}.type must be one of ${SERVICE_TYPES.join(', ')}`);
  if (s.ports !== undefined && !Array.isArray(s.ports)) throw new Error(`${where}.ports must be a list`);
  if (s.targets !== undefined && (typeof s.targets !== 'string' || !KIND_NAME.test(s.targets))) throw new Error(`${where}.targets must be kind/name, e.g. deployment/web`);
  return {
    name: s.name,
    ...(s.type !== undefined ? { type: s.type as string } : {}),
    ...(s.ports !== undefined ? { ports: (s.ports as unknown[]).map((p, j) => port(p, `${where}.ports[${j}]`)) } : {}),
    ...(s.targets !== undefined ? { targets: s.targets } : {}),
  };
}

/** Parses an intent file; throws an Error naming the first bad field. */
export function parseIntent(text: string): Intent {
  const doc = (parse(text) ?? {}) as Record<string, unknown>;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('the intent must be a YAML mapping');
  for (const key of ['services', 'connections', 'required']) {
    if (doc[key] !== undefined && !Array.isArray(doc[key])) throw new Error(`${key} must be a list`);
  }
  const connections = ((doc.connections ?? []) as Record<string, unknown>[]).map((c, i) => {
    if (typeof c.from !== 'string' || !(c.from === 'any' || KIND_NAME.test(c.from))) throw new Error(`connections[${i}].from must be "any" or kind/name`);
    if (typeof c.to !== 'string' || !SERVICE_PORT.test(c.to)) throw new Error(`connections[${i}].to must be service[.namespace]:port`);
    return { from: c.from, to: c.to };
  });
  const required = ((doc.required ?? []) as unknown[]).map((r, i) => {
    if (typeof r !== 'string' || !KIND_NAME.test(r)) throw new Error(`required[${i}] must be kind/name, e.g. service/mysql`);
    return r;
  });
  return { services: ((doc.services ?? []) as unknown[]).map(service), connections, required };
}

/** The intent file as `netdoctor intent init` writes it. */
export function renderIntent(namespace: string, intent: Intent): string {
  return `# netdoctor intent for namespace ${namespace}: what its networking is meant to be.\n# Load it with: kubectl -n ${namespace} create configmap ${INTENT_CONFIGMAP} --from-file=${INTENT_KEY}=<this file>\n${stringify(intent)}`;
}
