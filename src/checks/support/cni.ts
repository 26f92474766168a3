import type { CheckContext } from '../../domain/check';
import type { ClusterView } from '../../domain/cluster-view';
import type { DaemonSet, KubeEvent, KubeNode, Pod } from '../../domain/kube-types';
import { type ObjectRef, refKey, refOf } from '../../domain/object-ref';
import { START_GRACE_MS, ageMs } from './age';
import { isReady, owningWorkload, podState, waitingReasons } from './pods';
import { labelSelectorMatches, selectorMatches } from './selectors';

export type CniFamily = 'weave' | 'flannel' | 'calico' | 'cilium' | 'other';

/** What a `FailedCreatePodSandBox` message says about the pod network, when it is a network failure at all. */
export interface SandboxFailure {
  /** `type="…"` of the CNI plugin (CRI form), when named. */
  pluginType?: string;
  /** `name="…"` of the network (CRI form), when named. */
  pluginName?: string;
  family: CniFamily;
  /** The plugin's own error, with sandbox ids shortened. */
  cause: string;
}

const CRI_FORM = /plugin type="([^"]+)"(?:\s+name="([^"]*)")?\s+failed \((?:add|check|del|delete)\):\s*/g;
/** containerd up to 1.5 (pkg/cri/server/sandbox_run.go) wraps the plugin's error without naming the plugin. */
const CONTAINERD_15_FORM = /failed to (?:setup|set up) network for sandbox "[^"]*":\s*([\s\S]*)$/;
const DOCKERSHIM_FORM = /NetworkPlugin cni failed to set up pod "[^"]*" network:\s*([\s\S]*)$/i;
const CILIUM_DAEMON = /unable to connect to Cilium daemon[\s\S]*$/i;

function familyOf(pluginType: string | undefined, cause: string): CniFamily {
  const t = (pluginType ?? '').toLowerCase();
  if (t.startsWith('weave')) return 'weave';
  if (t === 'flannel') return 'flannel';
  if (t.startsWith('calico')) return 'calico';
  if (t.startsWith('cilium')) return 'cilium';
  if (t) return 'other';
  if (/127\.0\.0\.1:6784|weave/i.test(cause)) return 'weave';
  if (/\/run\/flannel\/subnet\.env|flannel/i.test(cause)) return 'flannel';
  if (/\/var\/lib\/calico\/|calico/i.test(cause)) return 'calico';
  if (/cilium/i.test(cause)) return 'cilium';
  return 'other';
}

/** Long sandbox/container ids make messages unreadable; keep 12 characters of each. */
export function shortenIds(text: string): string {
  return text.replace(/\b([0-9a-f]{12})[0-9a-f]{20,}\b/g, '$1…');
}

/**
 * Parses the CNI part of a sandbox failure (containerd/CRI-O `plugin type="…" failed (add): …`, the innermost
 * when a meta plugin wraps it, containerd ≤ 1.5's `failed to setup network for sandbox "…": …`, dockershim
 * `NetworkPlugin cni failed to set up pod …`, cilium's daemon error). Sandbox failures
 * that are not about the network (runtime, image, cgroup) return undefined.
 */
export function parseSandboxError(message: string | undefined): SandboxFailure | undefined {
  if (!message) return undefined;
  const text = message.replace(/\s+/g, ' ').trim();
  // A meta plugin (Multus, a chained plugin) reports the delegate's failure inside its own: the last one failed first.
  const cri = [...text.matchAll(CRI_FORM)].at(-1);
  if (cri) {
    const cause = shortenIds(text.slice(cri.index + cri[0].length).trim());
    const failure: SandboxFailure = { pluginType: cri[1], family: familyOf(cri[1], cause), cause };
    if (cri[2]) failure.pluginName = cri[2];
    return failure;
  }
  const docker = DOCKERSHIM_FORM.exec(text);
  if (docker) {
    const cause = shortenIds(docker[1]!.trim());
    return { family: familyOf(undefined, cause), cause };
  }
  const cilium = CILIUM_DAEMON.exec(text);
  if (cilium) return { pluginType: 'cilium-cni', family: 'cilium', cause: shortenIds(cilium[0]) };
  const old = CONTAINERD_15_FORM.exec(text);
  if (old) {
    const cause = shortenIds(old[1]!.trim());
    return { family: familyOf(undefined, cause), cause };
  }
  return undefined;
}

/** A CNI whose plugin binary needs a node agent run by a DaemonSet. */
export interface CniAgent {
  family: Exclude<CniFamily, 'other'>;
  /** Display name of the CNI. */
  product: string;
  /** Names the agent DaemonSet has in the usual manifests; the first is the one to install. */
  daemonSetNames: string[];
  /** Pod template labels that identify the agent when it was renamed. */
  labels: Record<string, string>[];
  /** Namespaces the usual manifests install it in; the first is the default. */
  namespaces: string[];
  /** What the CNI binary needs from the agent (why the sandbox fails without it). */
  needs: string;
  /** How to install it; the cluster cannot tell which version or manifest was intended. */
  install: string[];
}

export const CNI_AGENTS: readonly CniAgent[] = [
  {
    family: 'weave',
    product: 'Weave Net',
    daemonSetNames: ['weave-net'],
    labels: [{ name: 'weave-net' }],
    namespaces: ['kube-system'],
    needs: 'its IPAM API at 127.0.0.1:6784 on every node',
    install: [
      'kubectl apply -f https://github.com/weaveworks/weave/releases/download/v2.8.1/weave-daemonset-k8s.yaml',
      'Weave Net is no longer maintained upstream: pin the manifest you vetted, and plan a move to a maintained CNI (flannel, Calico, Cilium).',
    ],
  },
  {
    family: 'flannel',
    product: 'flannel',
    daemonSetNames: ['kube-flannel-ds', 'kube-flannel-ds-amd64'],
    labels: [{ app: 'flannel' }],
    namespaces: ['kube-flannel', 'kube-system'],
    needs: '/run/flannel/subnet.env, written by flanneld on every node',
    install: [
      'kubectl apply -f https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml',
      'The `Network` in ConfigMap kube-flannel-cfg (net-conf.json) must contain the pod CIDR (kubeadm-config networking.podSubnet).',
    ],
  },
  {
    family: 'calico',
    product: 'Calico',
    daemonSetNames: ['calico-node', 'canal'],
    labels: [{ 'k8s-app': 'calico-node' }, { 'k8s-app': 'canal' }],
    namespaces: ['calico-system', 'kube-system'],
    needs: '/var/lib/calico/nodename, written by calico/node on every node',
    install: [
      'kubectl create -f https://raw.githubusercontent.com/projectcalico/calico/<version>/manifests/tigera-operator.yaml (then the custom-resources.yaml of the same version), or the all-in-one manifests/calico.yaml',
    ],
  },
  {
    family: 'cilium',
    product: 'Cilium',
    daemonSetNames: ['cilium'],
    labels: [{ 'k8s-app': 'cilium' }],
    namespaces: ['kube-system'],
    needs: 'the cilium agent API socket on every node',
    install: ['cilium install --version <version>   (cilium CLI), or: helm install cilium cilium/cilium --namespace kube-system'],
  },
];

export function agentOf(family: CniFamily): CniAgent | undefined {
  return CNI_AGENTS.find((a) => a.family === family);
}

/** The DaemonSet the agent should have, for a "missing" finding's subject. */
export function expectedAgentRef(agent: CniAgent): ObjectRef {
  return { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: agent.namespaces[0], name: agent.daemonSetNames[0]! };
}

/** DaemonSets in the view that run the agent (by usual name or by template label), in any namespace read. */
export function agentDaemonSets(view: ClusterView, agent: CniAgent): DaemonSet[] {
  return view.list('DaemonSet').filter((ds) => {
    const labels = ds.spec?.template?.metadata?.labels;
    return agent.daemonSetNames.includes(ds.metadata?.name ?? '') || agent.labels.some((l) => selectorMatches(l, labels));
  });
}

/** Whether the view holds a namespace's objects (cluster-wide runs hold all; namespaced runs the target, kube-system and whatever else was read). */
export function namespaceRead(ctx: CheckContext, namespace: string): boolean {
  if (ctx.namespace === undefined || namespace === ctx.namespace || namespace === 'kube-system') return true;
  return (['Pod', 'DaemonSet', 'ConfigMap', 'Deployment', 'Service'] as const).some((k) => ctx.view.list(k, namespace).length > 0);
}

export type AgentState = 'healthy' | 'starting' | 'unhealthy';

export interface AgentHealth {
  state: AgentState;
  pods: Pod[];
  /** Agent pods that are crashing, erroring, or stuck past the start grace. */
  failing: Pod[];
  /** Agent pods not Ready yet but within the start grace. */
  starting: Pod[];
  /** One line: why the state is what it is. */
  why: string;
  /** Nodes asked about that run no agent pod (the DaemonSet does not cover them). */
  nodesWithout: string[];
}

const STARTING_REASONS = new Set(['ContainerCreating', 'PodInitializing']);

function podAge(pod: Pod, now: Date): number | undefined {
  return ageMs(pod.status?.startTime ?? pod.metadata?.creationTimestamp, now);
}

/** Pods owned by a DaemonSet (owner reference first, template labels for dumps without owners). */
export function daemonSetPods(view: ClusterView, ds: DaemonSet): Pod[] {
  const ns = ds.metadata?.namespace;
  const name = ds.metadata?.name;
  return view.list('Pod', ns).filter((p) => {
    const owners = p.metadata?.ownerReferences ?? [];
    if (owners.length > 0) return owners.some((o) => o.kind === 'DaemonSet' && o.name === name);
    return Boolean(ds.spec?.selector) && labelSelectorMatches(ds.spec?.selector, p.metadata?.labels);
  });
}

/** Is the agent running, still starting (a fresh install or rollout), or broken? */
export function agentHealth(view: ClusterView, ds: DaemonSet, now: Date, nodes: string[] = []): AgentHealth {
  const pods = daemonSetPods(view, ds);
  const failing: Pod[] = [];
  const starting: Pod[] = [];
  for (const pod of pods) {
    if (isReady(pod)) continue;
    const state = podState(pod);
    const waiting = waitingReasons(pod);
    const young = (podAge(pod, now) ?? Infinity) < START_GRACE_MS;
    const erroring = state === 'crashloop' || state === 'failed' || waiting.some((r) => !STARTING_REASONS.has(r));
    if (erroring || !young) failing.push(pod);
    else starting.push(pod);
  }
  const st = ds.status;
  const desired = st?.desiredNumberScheduled ?? 0;
  const ready = st?.numberReady ?? 0;
  const updated = st?.updatedNumberScheduled ?? desired;
  const generation = ds.metadata?.generation;
  const observed = st?.observedGeneration;
  const rollout = (generation !== undefined && observed !== undefined && observed < generation) || updated < desired;
  const young = (ageMs(ds.metadata?.creationTimestamp, now) ?? Infinity) < START_GRACE_MS;
  const nodesWithout = pods.length > 0 ? nodes.filter((n) => !pods.some((p) => p.spec?.nodeName === n)) : [];
  const name = ds.metadata?.name ?? '';

  let state: AgentState = 'healthy';
  let why = `${ready}/${desired} agent pods Ready`;
  if (failing.length > 0) {
    state = 'unhealthy';
    why = `${failing.length} of ${pods.length} ${name} pods failing (${ready}/${desired} Ready)`;
  } else if (starting.length > 0 || ((rollout || young) && ready < desired)) {
    state = 'starting';
    why = rollout ? `rollout in progress: ${updated}/${desired} updated, ${ready}/${desired} Ready` : `${ready}/${desired} Ready, pods still starting`;
  } else if (pods.length === 0 && ready < desired) {
    state = 'unhealthy';
    why = `only ${ready} of ${desired} agent pods Ready`;
  } else if (desired === 0 && view.list('Node').length > 0) {
    state = 'unhealthy';
    why = `the DaemonSet schedules no pods (nodeSelector or taints exclude every node)`;
  } else if (nodesWithout.length > 0) {
    state = 'unhealthy';
    why = `no ${name} pod on ${nodesWithout.join(', ')} (nodeSelector, affinity or untolerated taints)`;
  }
  return { state, pods, failing, starting, why, nodesWithout };
}

/** The kubelet's Ready=False message when the runtime reports no pod network (CNI-02), else undefined. */
export function networkNotReadyMessage(node: KubeNode): string | undefined {
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  if (!ready || ready.status === 'True') return undefined;
  const msg = ready.message ?? '';
  return /NetworkPluginNotReady|cni plugin not initialized|cni config uninitialized|network plugin is not ready/i.test(msg) ? msg : undefined;
}

/** The node's NetworkUnavailable=True condition (NODE-01), else undefined. */
export function networkUnavailableCondition(node: KubeNode): NonNullable<NonNullable<KubeNode['status']>['conditions']>[number] | undefined {
  return (node.status?.conditions ?? []).find((c) => c.type === 'NetworkUnavailable' && c.status === 'True');
}

/** Pods that need the pod network and do not have it yet: sandbox not created, no IP (hostNetwork pods excluded). */
export function podsWithoutNetwork(view: ClusterView, nodes?: ReadonlySet<string>): Pod[] {
  return view.list('Pod').filter((p) => {
    if (p.spec?.hostNetwork || p.status?.podIP) return false;
    const state = podState(p);
    if (state !== 'creating' && state !== 'pending') return false;
    if (state === 'creating') return !nodes || nodes.has(p.spec?.nodeName ?? '');
    // Unscheduled: only those the scheduler keeps out because nodes have no network.
    return view
      .events(refOf('Pod', p))
      .some((e) => e.reason === 'FailedScheduling' && /node\.kubernetes\.io\/(not-ready|network-unavailable)/.test(e.message ?? ''));
  });
}

/**
 * What a root cause about stuck pods explains: the pods, their owning workloads (the subjects of the
 * pod-not-running symptoms) and the Services that select them (whose endpoints are missing).
 */
export function explainsForPods(view: ClusterView, pods: readonly Pod[], extra: readonly ObjectRef[] = []): ObjectRef[] {
  const out = new Map<string, ObjectRef>();
  const add = (ref: ObjectRef): void => {
    if (!out.has(refKey(ref))) out.set(refKey(ref), ref);
  };
  for (const ref of extra) add(ref);
  for (const pod of pods) {
    add(refOf('Pod', pod));
    const owner = owningWorkload(view, pod);
    if (owner.kind !== 'Node') add(owner);
    for (const svc of view.list('Service', pod.metadata?.namespace)) {
      if (selectorMatches(svc.spec?.selector, pod.metadata?.labels)) add(refOf('Service', svc));
    }
  }
  return [...out.values()];
}

/** The newest network sandbox failure recorded for a pod, with its event. */
export function sandboxFailureOf(view: ClusterView, pod: Pod): { failure: SandboxFailure; event: KubeEvent } | undefined {
  const events = view.events(refOf('Pod', pod)).filter((e) => e.type === 'Warning' && e.reason === 'FailedCreatePodSandBox');
  for (let i = events.length - 1; i >= 0; i--) {
    const failure = parseSandboxError(events[i]!.message);
    if (failure) return { failure, event: events[i]! };
  }
  return undefined;
}

/** `ClusterConfiguration.networking.podSubnet` from kubeadm-config, for install advice. */
export function kubeadmPodSubnet(view: ClusterView): string | undefined {
  const cfg = view.get('ConfigMap', 'kube-system', 'kubeadm-config')?.data?.ClusterConfiguration;
  return cfg ? /^\s*podSubnet:\s*"?([^"\s]+)"?\s*$/m.exec(cfg)?.[1] : undefined;
}

/** Known reasons a CNI agent crashes, recognised in its logs and events, with what to do (CNI-04, CNI-06, the weave/kube-proxy chain). */
const AGENT_CRASH_HINTS: { pattern: RegExp; advice: (subnet: string | undefined) => string }[] = [
  {
    pattern: /pod cidr not assigned/i,
    advice: () =>
      'The node has no spec.podCIDR: kube-controller-manager runs without --allocate-node-cidrs=true --cluster-cidr=<pod CIDR> (kubeadm init without --pod-network-cidr). Add both flags in /etc/kubernetes/manifests/kube-controller-manager.yaml on the control plane.',
  },
  {
    pattern: /specified in the flannel net config doesn't contain/i,
    advice: (subnet) =>
      `The Network in ConfigMap kube-flannel-cfg (net-conf.json) does not contain the nodes' podCIDR: set it to the cluster's pod CIDR${subnet ? ` (${subnet})` : ''}, then kubectl -n kube-flannel rollout restart daemonset kube-flannel-ds.`,
  },
  {
    pattern: /BGP not established with/i,
    advice: () =>
      'calico-node has no BGP session: if the peer address is not a node InternalIP, IP autodetection picked the wrong interface (set env IP_AUTODETECTION_METHOD=interface=<nic> or can-reach=<node IP> on the calico-node container); otherwise open TCP 179 between the nodes.',
  },
  {
    pattern: /dial tcp 10\.96\.0\.1:443|dial tcp [\d.]+:443: (i\/o timeout|connect: connection refused)/,
    advice: () => 'The agent cannot reach the API server through its ClusterIP: check kube-proxy on that node first (it programs the kubernetes Service), then the node firewall.',
  },
];

/** Advice for the crash causes found in the failing agent pods' logs and warning events. */
export function agentCrashHints(view: ClusterView, pods: readonly Pod[]): string[] {
  const texts: string[] = [];
  for (const pod of pods) {
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      for (const previous of [true, false]) texts.push(view.log({ namespace: ns, pod: name, container: c.name, previous }) ?? '');
    }
    for (const e of view.events(refOf('Pod', pod))) if (e.type === 'Warning') texts.push(e.message ?? '');
  }
  const all = texts.join('\n');
  const subnet = kubeadmPodSubnet(view);
  return AGENT_CRASH_HINTS.filter((h) => h.pattern.test(all)).map((h) => h.advice(subnet));
}

/** The CNI agent a stuck pod waits for, when that agent is still starting (a fresh install or rollout): then the pod is only waiting. */
export function startingCniAgent(ctx: CheckContext, pod: Pod, cache: Map<string, boolean> = new Map()): string | undefined {
  const found = sandboxFailureOf(ctx.view, pod);
  const agent = found ? agentOf(found.failure.family) : undefined;
  if (!agent) return undefined;
  const ds = agentDaemonSets(ctx.view, agent).find((d) => {
    const key = `${d.metadata?.namespace}/${d.metadata?.name}`;
    if (!cache.has(key)) cache.set(key, agentHealth(ctx.view, d, ctx.now).state === 'starting');
    return cache.get(key);
  });
  return ds ? `${ds.metadata?.name}` : undefined;
}
