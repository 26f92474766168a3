import type { V1Container } from '@kubernetes/client-node';
import { parse, parseDocument } from 'yaml';
import type { ClusterView } from '../../domain/cluster-view';
import type { Evidence } from '../../domain/finding';
import type { ConfigMap, DaemonSet, Pod, Wire } from '../../domain/kube-types';
import { type ObjectRef, kubectl, refOf } from '../../domain/object-ref';
import type { Operation } from '../../domain/plan';
import { containerLog, eventEvidence, logEvidence, logExcerpt, objectEvidence, warningEvents } from './evidence';
import { caughtBetweenCrashes, isReady, podState, podsOf, restartCount, waitingReasons } from './pods';
import type { PodSpec } from './services';

export type Container = Wire<V1Container>;

export function isKubeProxyContainer(c: Container): boolean {
  const binary = (c.command ?? c.args ?? [])[0] ?? '';
  return c.name === 'kube-proxy' || /(^|\/)kube-proxy$/.test(binary);
}

export interface KubeProxyDaemonSet {
  ds: DaemonSet;
  ref: ObjectRef & { apiVersion: string };
  spec: PodSpec;
  containerIndex: number;
  container: Container;
}

/** DaemonSets (any namespace in the view) that run kube-proxy, with their kube-proxy container. */
export function kubeProxyDaemonSets(view: ClusterView): KubeProxyDaemonSet[] {
  const found: KubeProxyDaemonSet[] = [];
  for (const ds of view.list('DaemonSet')) {
    const spec = ds.spec?.template?.spec;
    const containerIndex = (spec?.containers ?? []).findIndex(isKubeProxyContainer);
    if (!spec || containerIndex < 0) continue;
    found.push({ ds, ref: { ...refOf('DaemonSet', ds), apiVersion: 'apps/v1' }, spec, containerIndex, container: spec.containers[containerIndex]! });
  }
  return found;
}

/** Where `--config` sits in the container's command line. */
export interface ConfigFlag {
  field: 'command' | 'args';
  index: number;
  /** The whole array element as written (`--config=/x`, the path after a bare `--config`, or a shell line). */
  token: string;
  path: string;
}

export function configFlag(c: Container): ConfigFlag | undefined {
  for (const field of ['command', 'args'] as const) {
    const words = c[field] ?? [];
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      if (w.startsWith('--config=')) return { field, index: i, token: w, path: w.slice('--config='.length) };
      if (w === '--config' && words[i + 1]) return { field, index: i + 1, token: words[i + 1]!, path: words[i + 1]! };
      const embedded = /(?:^|\s)--config[= ](\S+)/.exec(w);
      if (embedded) return { field, index: i, token: w, path: embedded[1]! };
    }
  }
  return undefined;
}

export function commandLine(c: Container): string {
  return [...(c.command ?? []), ...(c.args ?? [])].join(' ');
}

/** A ConfigMap volume mounted over a directory, and the files it projects there. */
export interface MountedConfigMap {
  mountPath: string;
  volumeName: string;
  configMapName: string;
  configMap?: ConfigMap;
  /** The file under the mount the path names, e.g. `configuration.conf`. */
  relative: string;
  /** Projected file (relative path) → ConfigMap key. */
  files: Map<string, string>;
}

/** The ConfigMap mount a file path lies in (the deepest mount wins); undefined when it is not a ConfigMap mount. */
export function configMapMountFor(view: ClusterView, namespace: string | undefined, spec: PodSpec, c: Container, path: string): MountedConfigMap | undefined {
  const mounts = (c.volumeMounts ?? [])
    .filter((m) => !m.subPath && path.startsWith(`${m.mountPath.replace(/\/+$/, '')}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length);
  const mount = mounts[0];
  if (!mount) return undefined;
  const volume = (spec.volumes ?? []).find((v) => v.name === mount.name);
  const source = volume?.configMap;
  if (!source?.name) return undefined;
  const configMap = view.get('ConfigMap', namespace, source.name);
  const files = new Map<string, string>();
  if (source.items && source.items.length > 0) for (const item of source.items) files.set(item.path, item.key);
  else for (const key of [...Object.keys(configMap?.data ?? {}), ...Object.keys(configMap?.binaryData ?? {})]) files.set(key, key);
  const mountPath = mount.mountPath.replace(/\/+$/, '');
  const m: MountedConfigMap = { mountPath, volumeName: mount.name, configMapName: source.name, relative: path.slice(mountPath.length + 1), files };
  if (configMap) m.configMap = configMap;
  return m;
}

/** A text's YAML document, or undefined when it does not parse. */
function parsedOrUndefined(text: string): unknown {
  try {
    return parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The `kind` of a YAML document, or undefined when it does not parse. */
export function yamlKind(text: string | undefined): string | undefined {
  const doc = text ? parsedOrUndefined(text) : undefined;
  return doc && typeof doc === 'object' ? ((doc as { kind?: unknown }).kind as string | undefined) : undefined;
}

export function fileContent(mount: MountedConfigMap, file: string): string | undefined {
  const key = mount.files.get(file);
  return key === undefined ? undefined : mount.configMap?.data?.[key];
}

export interface ConfigPathFault {
  kp: KubeProxyDaemonSet;
  flag: ConfigFlag;
  mount: MountedConfigMap & { configMap: ConfigMap };
  /** Files the ConfigMap could mean instead (relative to the mount); a plan only when exactly one. */
  candidates: string[];
}

/** KP-01: `--config` names a file the mounted ConfigMap does not project. */
export function configPathFault(view: ClusterView, kp: KubeProxyDaemonSet): ConfigPathFault | undefined {
  const flag = configFlag(kp.container);
  if (!flag) return undefined;
  const mount = configMapMountFor(view, kp.ds.metadata?.namespace, kp.spec, kp.container, flag.path);
  // The ConfigMap itself absent is a mount failure (FailedMount), not this fault; we cannot list its keys anyway.
  if (!mount?.configMap || mount.files.has(mount.relative)) return undefined;
  const files = [...mount.files.keys()];
  const proxyConfigs = files.filter((f) => yamlKind(fileContent(mount, f)) === 'KubeProxyConfiguration');
  let candidates = proxyConfigs;
  if (candidates.length === 0) candidates = files.includes('config.conf') ? ['config.conf'] : files.filter((f) => f.endsWith('.conf') && yamlKind(fileContent(mount, f)) !== 'Config');
  return { kp, flag, mount: mount as ConfigPathFault['mount'], candidates };
}

/** The KubeProxyConfiguration file `--config` names, as the mounted ConfigMap provides it. */
export interface LoadedConfig {
  /** The config file (relative to the mount) and its key in the ConfigMap. */
  configFile: string;
  configKey: string;
  configText: string;
  configMount: MountedConfigMap & { configMap: ConfigMap };
  /** The parsed YAML; undefined when it does not parse. */
  config?: Record<string, unknown>;
}

/** Per view, each config text's YAML: several checks read kube-proxy's config, and parsing it costs milliseconds. */
const parsedTexts = new WeakMap<ClusterView, Map<string, unknown>>();

/** The text's YAML document, undefined when it is not YAML (kube-proxy fails to decode it; no value check can say more). */
function parsedYaml(view: ClusterView, text: string): unknown {
  let texts = parsedTexts.get(view);
  if (!texts) parsedTexts.set(view, (texts = new Map<string, unknown>()));
  if (!texts.has(text)) texts.set(text, parsedOrUndefined(text));
  return texts.get(text);
}

/** kube-proxy's config file, when `--config` names a key its mounted ConfigMap does provide. */
export function loadedConfig(view: ClusterView, kp: KubeProxyDaemonSet): LoadedConfig | undefined {
  const flag = configFlag(kp.container);
  if (!flag) return undefined;
  const configMount = configMapMountFor(view, kp.ds.metadata?.namespace, kp.spec, kp.container, flag.path);
  if (!configMount?.configMap) return undefined;
  const configKey = configMount.files.get(configMount.relative);
  const configText = configKey === undefined ? undefined : configMount.configMap.data?.[configKey];
  if (configKey === undefined || configText === undefined) return undefined;
  const loaded: LoadedConfig = { configFile: configMount.relative, configKey, configText, configMount: configMount as LoadedConfig['configMount'] };
  const doc = parsedYaml(view, configText);
  if (doc && typeof doc === 'object' && !Array.isArray(doc)) loaded.config = doc as Record<string, unknown>;
  return loaded;
}

export interface KubeconfigFault extends LoadedConfig {
  kp: KubeProxyDaemonSet;
  kubeconfigPath: string;
  kubeconfigMount: MountedConfigMap & { configMap: ConfigMap };
  /** Full paths of kubeconfig files (`kind: Config`) the ConfigMap does project. */
  candidates: string[];
}

/** KP-02: the config file exists, but its `clientConnection.kubeconfig` names a file the mounted ConfigMap lacks. */
export function kubeconfigFault(view: ClusterView, kp: KubeProxyDaemonSet): KubeconfigFault | undefined {
  const loaded = loadedConfig(view, kp);
  const kubeconfigPath = (loaded?.config?.clientConnection as { kubeconfig?: unknown } | undefined)?.kubeconfig;
  // Empty: in-cluster config from the service account, which is fine.
  if (!loaded || typeof kubeconfigPath !== 'string' || kubeconfigPath === '') return undefined;
  const kubeconfigMount = configMapMountFor(view, kp.ds.metadata?.namespace, kp.spec, kp.container, kubeconfigPath);
  // Outside any ConfigMap mount (a hostPath, the image): we cannot tell, so we say nothing.
  if (!kubeconfigMount?.configMap || kubeconfigMount.files.has(kubeconfigMount.relative)) return undefined;
  const candidates = [...kubeconfigMount.files.keys()]
    .filter((f) => yamlKind(fileContent(kubeconfigMount, f)) === 'Config')
    .map((f) => `${kubeconfigMount.mountPath}/${f}`);
  return { ...loaded, kp, kubeconfigPath, kubeconfigMount: kubeconfigMount as KubeconfigFault['kubeconfigMount'], candidates };
}

/**
 * The config text with one scalar changed: the `key: old` line edited in place when exactly one such line
 * exists (comments and layout kept), else the YAML re-serialised with the value set at `path`.
 */
export function withConfigValue(text: string, path: string[], oldValue: string, newValue: string): string {
  const key = path[path.length - 1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const escaped = oldValue.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const line = new RegExp(`^(\\s*${key}:[ \\t]*)(["']?)${escaped}\\2([ \\t]*(#.*)?)$`, 'gm');
  const matches = text.match(line);
  if (matches?.length === 1) {
    return text.replace(line, (_m, head: string, quote: string, tail: string) => `${head}${quote || (newValue === '' ? '""' : '')}${newValue}${quote}${tail}`);
  }
  const doc = parseDocument(text);
  doc.setIn(path, newValue);
  return doc.toString();
}

/** What `kubectl rollout restart` does, with a value derived from the ConfigMap version so the plan id is stable. */
export function restartOperation(kp: KubeProxyDaemonSet, cm: ConfigMap): Operation {
  return {
    action: 'patch',
    target: kp.ref,
    patchType: 'merge',
    patch: { spec: { template: { metadata: { annotations: { 'netdoctor.io/restarted-for': `configmap-${cm.metadata?.name}-${cm.metadata?.resourceVersion ?? 'unknown'}` } } } } },
    resourceVersion: kp.ds.metadata?.resourceVersion,
  };
}

/** Pods of the DaemonSet whose kube-proxy container crashes or keeps restarting (kube-proxy has no readiness probe: Ready between crashes). */
export function crashingPods(view: ClusterView, kp: KubeProxyDaemonSet, now: Date): Pod[] {
  return podsOf(view, kp.ref).filter((p) => {
    const state = podState(p);
    if (state === 'crashloop' || state === 'failed' || caughtBetweenCrashes(p, now)) return true;
    const status = (p.status?.containerStatuses ?? []).find((s) => s.name === kp.container.name);
    return !isReady(p) && (waitingReasons(p).includes('Error') || ((status?.restartCount ?? 0) > 0 && (status?.lastState?.terminated?.exitCode ?? 0) !== 0));
  });
}

/** One line of pod state: `pod/kube-proxy-k58g8: CrashLoopBackOff, 5 restarts, last exit code 1 (Error)`. */
export function podStateEvidence(pod: Pod, container: string): Evidence {
  const ref = refOf('Pod', pod);
  const status = (pod.status?.containerStatuses ?? []).find((s) => s.name === container);
  const waiting = status?.state?.waiting?.reason;
  const last = status?.lastState?.terminated;
  const parts = [waiting ?? pod.status?.phase ?? 'Unknown', `${status?.restartCount ?? restartCount(pod)} restarts`];
  if (last) parts.push(`last exit code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}`);
  return objectEvidence(ref, `pod/${ref.name}: ${parts.join(', ')}`, kubectl.get(ref, 'wide'));
}

/**
 * Why a container crashed, from its log (the previous instance first): lines containing `prefer`
 * when given, else the error-looking tail. Undefined when the view holds no log.
 */
export function crashLogEvidence(view: ClusterView, pod: Pod, container: string, prefer?: string): { evidence: Evidence; lines: string[] } | undefined {
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const log = containerLog(view, ns, name, container);
  if (!log) return undefined;
  const preferred = prefer ? log.text.split('\n').filter((l) => l.includes(prefer)).slice(-1) : [];
  const lines = preferred.length > 0 ? preferred : logExcerpt(log.text, 3);
  if (lines.length === 0) return undefined;
  return { evidence: logEvidence(ns, name, container, log.previous, lines), lines };
}

/** Evidence that the DaemonSet's pods are crashing: state, the log line, the BackOff event (first two pods at most). */
export function crashEvidence(view: ClusterView, kp: KubeProxyDaemonSet, pods: Pod[], prefer?: string): Evidence[] {
  const container = kp.container.name;
  const evidence: Evidence[] = [];
  for (const pod of pods.slice(0, 2)) {
    evidence.push(podStateEvidence(pod, container));
    const log = crashLogEvidence(view, pod, container, prefer);
    if (log) evidence.push(log.evidence);
    const ref = refOf('Pod', pod);
    const backoff = warningEvents(view, ref, ['BackOff']).slice(-1);
    for (const e of backoff) evidence.push(eventEvidence(e, ref));
  }
  if (pods.length > 2) evidence.push({ type: 'command', text: `${pods.length - 2} more kube-proxy pods in the same state`, command: podListCommand(kp) });
  return evidence;
}

/** `kubectl get pods -n kube-system -l k8s-app=kube-proxy -o wide`, from the DaemonSet's own selector. */
export function podListCommand(kp: KubeProxyDaemonSet): string {
  const selector = Object.entries(kp.ds.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  return kubectl.list('pods', kp.ds.metadata?.namespace, [...(selector ? ['-l', selector] : []), '-o', 'wide']);
}

/** Where the service-account token and CA are mounted in every pod; kubeadm's kube-proxy kubeconfig reads them. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The kubeconfig kubeadm writes into ConfigMap kube-system/kube-proxy (key kubeconfig.conf), byte for byte:
 * cmd/kubeadm/app/phases/addons/proxy/manifests.go, KubeProxyConfigMap19 (a `|-` block: no final newline).
 */
export function kubeadmProxyKubeconfig(server: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- cluster:',
    `    certificate-authority: ${SERVICE_ACCOUNT_DIR}/ca.crt`,
    `    server: ${server}`,
    '  name: default',
    'contexts:',
    '- context:',
    '    cluster: default',
    '    namespace: default',
    '    user: default',
    '  name: default',
    'current-context: default',
    'users:',
    '- name: default',
    '  user:',
    `    tokenFile: ${SERVICE_ACCOUNT_DIR}/token`,
  ].join('\n');
}

/** The API server's real address, and where it was read. */
export interface ApiServerAddress {
  url: string;
  source: string;
  ref: ObjectRef;
  command: string;
}

/**
 * The API server address kube-proxy must use: the `server` of kube-public/cluster-info's kubeconfig (what kubeadm
 * publishes for joining nodes), else kubeadm-config's controlPlaneEndpoint (what kubeadm renders into kube-proxy's
 * kubeconfig). Never the kubernetes Service ClusterIP: kube-proxy is the component that makes that IP work.
 */
export function apiServerAddress(view: ClusterView): ApiServerAddress | undefined {
  const clusterInfo = view.get('ConfigMap', 'kube-public', 'cluster-info');
  if (clusterInfo?.data?.kubeconfig) {
    try {
      const doc = parse(clusterInfo.data.kubeconfig) as { clusters?: { cluster?: { server?: unknown } }[] } | null;
      const servers = [...new Set((doc?.clusters ?? []).map((c) => c.cluster?.server).filter((s): s is string => typeof s === 'string' && /^https:\/\/\S+$/.test(s)))];
      if (servers.length === 1) {
        const ref = refOf('ConfigMap', clusterInfo);
        return { url: servers[0]!, source: 'ConfigMap kube-public/cluster-info', ref, command: `kubectl -n kube-public get configmap cluster-info -o jsonpath='{.data.kubeconfig}'` };
      }
    } catch {
      // An unparsable cluster-info: fall through to kubeadm-config.
    }
  }
  const kubeadm = view.get('ConfigMap', 'kube-system', 'kubeadm-config');
  const endpoint = kubeadm?.data?.ClusterConfiguration ? /^controlPlaneEndpoint:\s*"?([^"\s]+)"?\s*$/m.exec(kubeadm.data.ClusterConfiguration)?.[1] : undefined;
  // host:port as kubeadm requires it there (an IPv6 host in brackets); without a port the bind port is unknown.
  if (kubeadm && endpoint && /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(endpoint)) {
    return { url: `https://${endpoint}`, source: 'kubeadm-config controlPlaneEndpoint', ref: refOf('ConfigMap', kubeadm), command: `kubectl -n kube-system get configmap kubeadm-config -o yaml` };
  }
  return undefined;
}
