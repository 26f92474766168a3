import type { ClusterView } from '../../domain/cluster-view';
import type { PodSpec } from './services';

/** A host named inside a config value, and where it sits so it can be replaced in place. */
export interface HostRef {
  host: string;
  port?: number;
  start: number;
  end: number;
}

/** Env var names that usually carry a host (DB_Host, REDIS_ADDR, API_URL, BACKEND_SERVICE, …). */
const HOSTISH_NAME = /host|addr|server|endpoint|url|uri|dsn|service|svc|upstream|backend|broker/i;
/** …but not these (OTEL_SERVICE_NAME=checkout names the app itself, SERVER_MODE=prod is no host)… */
const NOT_HOSTISH_NAME = /(name|mode|type|port|user|username|id|enabled|timeout|version|account|path|key|token|password|secret)$/i;
/** …though a name ending in HOSTNAME (DB_HOSTNAME=mysql) does hold one. */
const HOSTNAME_NAME = /host_?name$/i;
const LABEL = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?';
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`, 'i');
const IP = /^\d{1,3}(\.\d{1,3}){3}$|:/;

/**
 * The host in a value: `scheme://[user@]host[:port]…` (also `jdbc:mysql://…`), `host:port`, or, when the
 * variable's name says it holds a host, a bare `host`. IPs and localhost are not hosts to resolve.
 */
export function hostIn(name: string, value: string): HostRef | undefined {
  let found: HostRef | undefined;
  const url = /^([a-z][a-z0-9+.-]*:(?:[a-z][a-z0-9+.-]*:)*\/\/(?:[^@/?#]*@)?)([^:/?#,;\s]+)(?::(\d+))?/i.exec(value);
  const hostPort = /^([^:/\s]+):(\d+)$/.exec(value);
  if (url) {
    const start = url[1]!.length;
    found = { host: url[2]!, start, end: start + url[2]!.length };
    if (url[3]) found.port = Number(url[3]);
  } else if (hostPort) {
    found = { host: hostPort[1]!, port: Number(hostPort[2]), start: 0, end: hostPort[1]!.length };
  } else if (HOSTISH_NAME.test(name) && (HOSTNAME_NAME.test(name) || !NOT_HOSTISH_NAME.test(name)) && HOSTNAME.test(value.trim())) {
    const start = value.indexOf(value.trim());
    found = { host: value.trim(), start, end: start + value.trim().length };
  }
  if (!found || !HOSTNAME.test(found.host) || IP.test(found.host) || found.host.toLowerCase() === 'localhost') return undefined;
  return found;
}

/**
 * How cluster DNS reads a host from a pod in `podNamespace`: `name`, `name.ns`, `name.ns.svc`, `name.ns.svc.<domain>`.
 * Undefined for names that are not Service names (external FQDNs, pod/headless sub-names).
 */
export function serviceNameOf(host: string, podNamespace: string, knownNamespaces: ReadonlySet<string>): { name: string; namespace: string; short: boolean } | undefined {
  const parts = host.toLowerCase().split('.');
  if (parts.length === 1) return { name: parts[0]!, namespace: podNamespace, short: true };
  const [name, ns, svc] = parts;
  if (parts.length >= 3 && svc === 'svc') return { name: name!, namespace: ns!, short: false };
  if (parts.length === 2 && knownNamespaces.has(ns!)) return { name: name!, namespace: ns!, short: false };
  return undefined;
}

/** The env a pod spec's containers see, as far as the view can tell: literals, configMapKeyRef and envFrom ConfigMaps. */
export function visibleEnv(
  view: ClusterView,
  namespace: string | undefined,
  spec: PodSpec | undefined,
): { container: string; variable: string; value: string }[] {
  const out: { container: string; variable: string; value: string }[] = [];
  for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.configMapKeyRef;
      const value = e.value ?? (ref?.name ? view.get('ConfigMap', namespace, ref.name)?.data?.[ref.key] : undefined);
      if (value !== undefined) out.push({ container: c.name, variable: e.name, value });
    }
    for (const from of c.envFrom ?? []) {
      const data = from.configMapRef?.name ? view.get('ConfigMap', namespace, from.configMapRef.name)?.data : undefined;
      for (const [key, value] of Object.entries(data ?? {})) out.push({ container: c.name, variable: `${from.prefix ?? ''}${key}`, value });
    }
  }
  return out;
}

/** The env entries of a pod spec that name a given Service (by any name cluster DNS resolves to it from that namespace). */
export function envReferences(
  view: ClusterView,
  namespace: string,
  spec: PodSpec | undefined,
  service: { name: string; namespace: string },
  knownNamespaces: ReadonlySet<string>,
): { container: string; variable: string; value: string }[] {
  return visibleEnv(view, namespace, spec).filter((e) => {
    const host = hostIn(e.variable, e.value);
    const target = host ? serviceNameOf(host.host, namespace, knownNamespaces) : undefined;
    return target?.name === service.name && target.namespace === service.namespace;
  });
}
