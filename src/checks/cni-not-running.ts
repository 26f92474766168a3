import type { Check, CheckContext } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import type { DaemonSet, KubeEvent, KubeNode, Pod } from '../domain/kube-types';
import { type ObjectRef, kubectl, refKey, refLabel, refOf } from '../domain/object-ref';
import { type Plan, makePlan } from '../domain/plan';
import {
  type AgentHealth,
  CNI_AGENTS,
  type CniAgent,
  type SandboxFailure,
  agentCrashHints,
  agentDaemonSets,
  agentHealth,
  agentOf,
  expectedAgentRef,
  explainsForPods,
  kubeadmPodSubnet,
  namespaceRead,
  networkNotReadyMessage,
  networkUnavailableCondition,
  podsWithoutNetwork,
  sandboxFailureOf,
  shortenIds,
} from './support/cni';
import { CNI_MANIFEST_KEY, CNI_MANIFEST_LABEL, CNI_MANIFEST_NAMESPACE, cmLabel, cniManifestFor } from './support/cni-manifest';
import { podEventEvidence, podFailureEvidence } from './support/pod-evidence';
import { isReady, podState, CONTAINER_STATUS_READS } from './support/pods';
import { ipExhaustion } from './support/ipam';

/** A pod whose sandbox the CNI plugin could not set up, with the event that says so. */
interface Stuck {
  pod: Pod;
  failure: SandboxFailure;
  event: KubeEvent;
}

const podName = (p: Pod): string => `${p.metadata?.namespace}/${p.metadata?.name}`;
/** The pods with a sandbox failure, plus the other pods on those nodes still waiting for a network (their events may have expired). */
function affectedPods(ctx: CheckContext, stuck: readonly Stuck[]): Pod[] {
  const waiting = podsWithoutNetwork(ctx.view, new Set(nodesOf(stuck))).filter((p) => podState(p) === 'creating');
  return [...new Set([...stuck.map((s) => s.pod), ...waiting])];
}

const nodesOf = (stuck: readonly Stuck[]): string[] => [...new Set(stuck.map((s) => s.pod.spec?.nodeName ?? '').filter(Boolean))].sort();

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function stuckPods(ctx: CheckContext): Stuck[] {
  const out: Stuck[] = [];
  for (const pod of ctx.view.list('Pod')) {
    if (isReady(pod) || pod.status?.podIP || podState(pod) !== 'creating') continue;
    const found = sandboxFailureOf(ctx.view, pod);
    // An IPAM out of addresses is pod-ip-exhaustion's: the CNI works, the node's range is used up.
    if (found && !ipExhaustion(found.failure.cause)) out.push({ pod, ...found });
  }
  return out;
}

/** The sandbox events, one per namespace first (so CoreDNS shows next to the app), at most three. */
function sandboxEvidence(stuck: readonly Stuck[], pods: readonly Pod[] = []): Evidence[] {
  const byNs = new Map<string, Stuck>();
  for (const s of stuck) if (!byNs.has(s.pod.metadata?.namespace ?? '')) byNs.set(s.pod.metadata?.namespace ?? '', s);
  const out = [...byNs.values()].slice(0, 3).map((s) => {
    const e = podEventEvidence(s.pod, s.event);
    return { ...e, text: shortenIds(e.text) };
  });
  out.push({
    type: 'object',
    text: `${plural(stuck.length, 'pod')} stuck in ContainerCreating with FailedCreatePodSandBox events: ${stuck.map((s) => podName(s.pod)).join(', ')}`,
    command: 'kubectl get events -A --field-selector reason=FailedCreatePodSandBox',
  });
  const quiet = pods.filter((p) => !stuck.some((s) => s.pod === p));
  if (quiet.length > 0) {
    out.push({
      type: 'object',
      text: `${plural(quiet.length, 'more pod')} on the same nodes wait${quiet.length === 1 ? 's' : ''} for a network (no IP; events expired or not yet recorded): ${quiet.map(podName).join(', ')}`,
      command: 'kubectl get pods -A -o wide --field-selector status.phase=Pending',
    });
  }
  return out;
}

function nodeReadyEvidence(node: KubeNode | undefined, name: string): Evidence {
  const ref: ObjectRef = { apiVersion: 'v1', kind: 'Node', name };
  const ready = (node?.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const text = ready
    ? `node/${name} Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ''}: ${ready.message ?? ''}`.trim()
    : `node/${name}: no Ready condition recorded`;
  return { type: 'object', text, command: kubectl.describe(ref) };
}

function coreDnsNote(stuck: readonly Pod[]): string {
  return stuck.some((p) => p.metadata?.namespace === 'kube-system' && /^coredns-/.test(p.metadata?.name ?? ''))
    ? ', including CoreDNS (so cluster DNS is down too)'
    : '';
}

function describeFailure(f: SandboxFailure): string {
  const plugin = f.pluginType ? `plugin type="${f.pluginType}"${f.pluginName ? ` name="${f.pluginName}"` : ''}` : 'the CNI plugin';
  return `${plugin} fails with \`${f.cause}\``;
}

/** CNI-01: the CNI config on the node names a plugin whose agent DaemonSet is not installed. */
function agentMissing(ctx: CheckContext, agent: CniAgent, stuck: Stuck[]): FindingDraft {
  const subject = expectedAgentRef(agent);
  const nodes = nodesOf(stuck);
  const pods = affectedPods(ctx, stuck);
  const unread = agent.namespaces.filter((ns) => !namespaceRead(ctx, ns) && ctx.view.get('Namespace', undefined, ns));
  const searched = [...new Set([...(ctx.namespace ? [ctx.namespace, 'kube-system'] : ['all namespaces'])])].join(', ');
  const evidence: Evidence[] = [
    ...sandboxEvidence(stuck, pods),
    {
      type: 'command',
      text: `No ${agent.daemonSetNames.join('/')} DaemonSet (nor one labelled ${agent.labels.map((l) => Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',')).join(' or ')}) in ${searched}${unread.length ? `; namespace ${unread.join(', ')} exists but was not read` : ''}`,
      command: 'kubectl get daemonsets -A',
    },
    ...nodes.slice(0, 2).map((n) => nodeReadyEvidence(ctx.view.get('Node', undefined, n), n)),
  ];
  const subnet = kubeadmPodSubnet(ctx.view);
  const manifest = cniManifestFor(ctx.view, agent);
  let plan: Plan | null = null;
  const install: string[] = [];
  // The agent may run in a namespace this run did not read: then installing it is not proposed.
  const blind = manifest.state === 'ready' && unread.length > 0;
  if (manifest.state === 'ready' && !blind) {
    const cm = cmLabel(manifest.configMap);
    const objects = manifest.operations.map((o) => `${o.target.kind} ${o.target.namespace ? `${o.target.namespace}/` : ''}${o.target.name}`);
    evidence.push({
      type: 'object',
      text: `ConfigMap ${cm} (${CNI_MANIFEST_LABEL}=${manifest.configMap.metadata?.labels?.[CNI_MANIFEST_LABEL]}) holds the operators' ${agent.product} manifest: ${objects.join(', ')}${manifest.skipped.length ? `; skipped: ${manifest.skipped.join(', ')}` : ''}`,
      command: `kubectl -n ${manifest.configMap.metadata?.namespace} get configmap ${manifest.configMap.metadata?.name} -o jsonpath='{.data.manifest\\.yaml}'`,
    });
    plan = makePlan({
      summary: `Install ${agent.product} from ConfigMap ${cm}: create ${objects.join(', ')}`,
      risk: 'high',
      effect:
        `Creates ${plural(objects.length, 'object')} exactly as the operators' manifest in ConfigMap ${cm} describes them (cluster-wide RBAC included). ` +
        `The ${manifest.daemonSet.name} DaemonSet then starts a privileged, hostNetwork agent pod on every node it tolerates, pulling its images; ` +
        `stuck pods get an IP on the kubelet's next sandbox retry. Objects that already exist unchanged are left alone; a rollback deletes exactly the objects this plan created.`,
      operations: manifest.operations,
      verify: { check: 'cni-not-running', subject: { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: manifest.daemonSet.namespace, name: manifest.daemonSet.name }, waitFor: 'rollout' },
    });
    install.push(`Review and approve the plan: it installs ${agent.product} from the manifest the operators stored in ConfigMap ${cm} (netdoctor fetches nothing from the internet). Check that it is the version this cluster was built with.`);
  } else {
    if (manifest.state === 'ready') {
      install.push(`netdoctor proposes installing ${agent.product} from ConfigMap ${cmLabel(manifest.configMap)} only when it could read ${unread.join(', ')}: re-run the diagnosis cluster-wide.`);
    }
    if (manifest.state === 'invalid') {
      evidence.push({ type: 'object', text: `ConfigMap ${cmLabel(manifest.configMap)} (${CNI_MANIFEST_LABEL}) cannot be installed: ${manifest.why}`, command: kubectl.get(refOf('ConfigMap', manifest.configMap)) });
      install.push(`netdoctor proposes no install plan: ConfigMap ${cmLabel(manifest.configMap)} ${manifest.why}. Fix the manifest there and re-run netdoctor, or install by hand.`);
    }
    install.push(
      `Install the ${agent.product} agent (DaemonSet ${subject.name} in ${subject.namespace}); the cluster cannot tell which version or manifest was intended, so use the one this cluster was built with, e.g.: ${agent.install[0]}`,
      ...agent.install.slice(1),
    );
    if (manifest.state === 'absent') {
      install.push(
        `To have netdoctor propose the install as an approvable plan next time, store the vetted manifest in a ConfigMap: kubectl -n ${CNI_MANIFEST_NAMESPACE} create configmap netdoctor-cni-manifest --from-file=${CNI_MANIFEST_KEY}=<manifest file> && kubectl -n ${CNI_MANIFEST_NAMESPACE} label configmap netdoctor-cni-manifest ${CNI_MANIFEST_LABEL}=${agent.family}`,
      );
    }
  }
  const advice = [
    ...install,
    ...(subnet ? [`Where the manifest sets a pod range (weave IPALLOC_RANGE, flannel net-conf.json Network, Calico CALICO_IPV4POOL_CIDR), use the cluster's pod CIDR: kubeadm-config networking.podSubnet = ${subnet}.`] : []),
    `Then watch it come up: kubectl -n ${subject.namespace} rollout status daemonset/${subject.name} — the stuck pods get an IP on the kubelet's next sandbox retry, no need to delete them.`,
    `If this cluster is meant to run a different CNI, the ${agent.product} config in /etc/cni/net.d on ${nodes.join(', ') || 'the nodes'} is stale: remove it there (the runtime uses the first file by name) instead of installing ${agent.product}.`,
  ];
  return {
    severity: 'critical',
    code: 'CNI-AGENT-MISSING',
    title: `CNI agent ${subject.name} is not running: ${agent.product} DaemonSet missing`,
    summary:
      `The CNI config on ${nodes.join(', ') || 'the node'} names ${agent.product} (${describeFailure(stuck[0]!.failure)}), but no ${subject.name} DaemonSet runs the agent that provides ${agent.needs}` +
      `${unread.length ? ` — at least not in the namespaces read (${unread.join(', ')} was not)` : ''}. ` +
      `No new pod gets a network: ${plural(pods.length, 'pod')} stuck in ContainerCreating${coreDnsNote(pods)}.`,
    subject,
    evidence,
    rootCause: true,
    explains: explainsForPods(ctx.view, pods, nodes.map((name) => ({ apiVersion: 'v1', kind: 'Node', name }))),
    advice,
    ...(plan ? { plan } : {}),
  };
}

/** CNI-05(a): the sandbox names one CNI, while another CNI's agent is healthy: a stale config file on the node. */
function staleConfig(ctx: CheckContext, agent: CniAgent, stuck: Stuck[], running: { agent: CniAgent; ds: DaemonSet }): FindingDraft {
  const nodes = nodesOf(stuck);
  const pods = affectedPods(ctx, stuck);
  const subject: ObjectRef = { apiVersion: 'v1', kind: 'Node', name: nodes[0] ?? '' };
  return {
    severity: 'critical',
    code: 'CNI-STALE-CONFIG',
    title: `Stale ${agent.product} CNI config on ${nodes.join(', ')} shadows ${running.agent.product}`,
    summary:
      `Sandboxes on ${nodes.join(', ')} are set up by ${agent.product} (${describeFailure(stuck[0]!.failure)}), but the cluster runs ${running.agent.product} (${running.ds.metadata?.name}, healthy). ` +
      `A leftover ${agent.product} file in /etc/cni/net.d sorts first and wins, so ${plural(pods.length, 'pod')} cannot get a network${coreDnsNote(pods)}.`,
    subject,
    evidence: [
      ...sandboxEvidence(stuck, pods),
      { type: 'object', text: `DaemonSet ${running.ds.metadata?.namespace}/${running.ds.metadata?.name} is Ready (${running.ds.status?.numberReady ?? 0}/${running.ds.status?.desiredNumberScheduled ?? 0})`, command: kubectl.get(refOf('DaemonSet', running.ds), 'wide') },
    ],
    rootCause: true,
    explains: explainsForPods(ctx.view, pods, nodes.map((name) => ({ apiVersion: 'v1', kind: 'Node', name }))),
    advice: [
      `On ${nodes.join(', ')}: ls /etc/cni/net.d and move the ${agent.product} config away (e.g. sudo mv /etc/cni/net.d/*${agent.family}* /root/), then delete the stuck pods so they are recreated.`,
      `If ${agent.product} is the intended CNI instead, install its agent: ${agent.install[0]}`,
    ],
  };
}

/** CNI-03: the agent DaemonSet exists but is down (or still starting: then only a note). */
function agentDown(ctx: CheckContext, agent: CniAgent, ds: DaemonSet, health: AgentHealth, stuck: Stuck[], notReady: KubeNode[], unavailable: KubeNode[] = []): FindingDraft {
  const subject = refOf('DaemonSet', ds);
  const dsLabel = refLabel(subject);
  const failingNodes = new Set(health.failing.map((p) => p.spec?.nodeName ?? '').filter(Boolean));
  for (const n of [...health.nodesWithout, ...nodesOf(stuck), ...[...notReady, ...unavailable].map((n) => n.metadata?.name ?? '')]) if (n) failingNodes.add(n);
  const waiting = podsWithoutNetwork(ctx.view, failingNodes).filter((p) => !health.pods.includes(p));
  const pods = [...new Set([...stuck.map((s) => s.pod), ...waiting])];
  const nodeRefs = [...failingNodes].sort().map((name) => ({ apiVersion: 'v1', kind: 'Node', name }));
  const explains = explainsForPods(ctx.view, pods, [...nodeRefs, ...health.pods.map((p) => refOf('Pod', p))]);
  const status = `${ds.status?.numberReady ?? 0}/${ds.status?.desiredNumberScheduled ?? 0} Ready, ${ds.status?.updatedNumberScheduled ?? 0} up to date`;
  const dsEvidence: Evidence = { type: 'object', text: `${dsLabel}: ${status}; ${health.why}`, command: kubectl.get(subject, 'wide') };
  const stuckEvidence = stuck.length > 0 ? sandboxEvidence(stuck, pods) : [];
  const nodeEvidence = notReady.slice(0, 2).map((n) => nodeReadyEvidence(n, n.metadata?.name ?? ''));
  const affected = pods.length > 0 ? ` ${plural(pods.length, 'pod')} ${pods.length === 1 ? 'waits' : 'wait'} for a network meanwhile${coreDnsNote(pods)}.` : '';

  if (health.state === 'starting') {
    return {
      severity: 'info',
      code: 'CNI-AGENT-STARTING',
      title: `CNI agent ${ds.metadata?.name} is still starting`,
      summary: `${agent.product} (${dsLabel}) was just installed or is rolling out (${health.why}); pods get a network once it is Ready.${affected}`,
      subject,
      evidence: [dsEvidence, ...health.starting.slice(0, 2).flatMap((p) => podFailureEvidence(ctx.view, p, ctx.now, 1)), ...stuckEvidence],
      rootCause: true,
      explains,
      advice: [`Wait for it: kubectl -n ${subject.namespace} rollout status daemonset/${subject.name}; re-run netdoctor if it is not Ready within a few minutes.`],
    };
  }
  const uncovered = health.failing.length === 0 && health.nodesWithout.length > 0;
  const crash = health.failing.slice(0, 2).flatMap((p) => podFailureEvidence(ctx.view, p, ctx.now));
  const advice = uncovered
    ? [
        `${dsLabel} does not run on ${health.nodesWithout.join(', ')}: compare the nodes' taints (kubectl describe node) with the DaemonSet's tolerations and nodeSelector (kubectl -n ${subject.namespace} get ds ${subject.name} -o jsonpath='{.spec.template.spec.tolerations}').`,
        `A CNI agent must tolerate every taint: add {"operator":"Exists"} to spec.template.spec.tolerations.`,
      ]
    : [
        ...agentCrashHints(ctx.view, health.failing),
        `Fix why the ${ds.metadata?.name} pods fail (evidence below: their events and the crashed container's log), e.g. kubectl -n ${subject.namespace} logs <pod> -c <container> --previous.`,
        `For a transient failure, delete the failing agent pod; the DaemonSet recreates it: kubectl -n ${subject.namespace} delete pod ${health.failing[0]?.metadata?.name ?? '<pod>'}.`,
        `Do not restart the stuck application pods: they get a network once the agent is Ready.`,
      ];
  // Down on some nodes only (CNI-03): the finding names them, and says where the agent, and so the pod network, still works.
  const down = [...failingNodes].sort();
  const healthyNodes = [...new Set(health.pods.filter((p) => isReady(p) && !failingNodes.has(p.spec?.nodeName ?? '')).map((p) => p.spec?.nodeName ?? '').filter(Boolean))].sort();
  const partial = down.length > 0 && healthyNodes.length > 0;
  const elsewhere = partial
    ? ` Only pods on ${down.join(', ')} are affected: the agent is Ready on ${plural(healthyNodes.length, 'other node')} (${healthyNodes.slice(0, 3).join(', ')}${healthyNodes.length > 3 ? ', …' : ''}), where pods get their network.`
    : '';
  const healthyEvidence: Evidence[] = partial
    ? [{ type: 'object', text: `${dsLabel} pods Ready on ${healthyNodes.join(', ')}; not on ${down.join(', ')}`, command: kubectl.list('pods', subject.namespace, ['-l', Object.entries(ds.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(','), '-o', 'wide']) }]
    : [];
  const where = partial ? ` on ${down.join(', ')}` : '';
  return {
    severity: pods.length > 0 || notReady.length > 0 || unavailable.length > 0 ? 'critical' : 'warning',
    code: uncovered ? 'CNI-AGENT-NOT-ON-NODE' : partial ? 'CNI-AGENT-DOWN-ON-NODE' : 'CNI-AGENT-UNHEALTHY',
    title: uncovered ? `CNI agent ${ds.metadata?.name} does not run on ${health.nodesWithout.join(', ')}` : partial ? `CNI agent ${ds.metadata?.name} is down on ${down.join(', ')}` : `CNI agent ${ds.metadata?.name} is unhealthy`,
    summary:
      `The ${agent.product} agent (${dsLabel}) is installed but not working${where}: ${health.why}. ` +
      (stuck.length > 0 ? `The CNI plugin on ${partial ? down.join(', ') : 'its nodes'} cannot set up sandboxes (${describeFailure(stuck[0]!.failure)}).` : `Pods scheduled on ${down.join(', ') || 'its nodes'} cannot get a network.`) +
      affected +
      elsewhere,
    subject,
    evidence: [dsEvidence, ...crash, ...stuckEvidence, ...healthyEvidence, ...nodeEvidence],
    rootCause: true,
    explains,
    advice,
  };
}

/** Sandbox failures while the agent looks healthy: newer than its readiness means something else breaks the plugin. */
function failingDespiteHealthy(ctx: CheckContext, agent: CniAgent, ds: DaemonSet, health: AgentHealth, stuck: Stuck[]): FindingDraft | undefined {
  const readySince = (node: string): number => {
    const pod = health.pods.find((p) => p.spec?.nodeName === node);
    const t = (pod?.status?.conditions ?? []).find((c) => c.type === 'Ready')?.lastTransitionTime;
    return t ? Date.parse(t) : 0;
  };
  const fresh = stuck.filter((s) => {
    const t = Date.parse(s.event.lastTimestamp ?? s.event.eventTime ?? s.event.firstTimestamp ?? '');
    return Number.isNaN(t) || t > readySince(s.pod.spec?.nodeName ?? '');
  });
  if (fresh.length === 0) return undefined;
  const subject = refOf('DaemonSet', ds);
  const pods = fresh.map((s) => s.pod);
  return {
    severity: 'warning',
    code: 'CNI-FAILING-AGENT-READY',
    title: `${agent.product} CNI fails although ${ds.metadata?.name} is Ready`,
    summary: `Sandboxes keep failing (${describeFailure(fresh[0]!.failure)}) after the ${agent.product} agent became Ready, so ${plural(pods.length, 'pod')} have no network${coreDnsNote(pods)}. The agent may be failing on those nodes despite its probe, or the node's CNI config/binaries are broken.`,
    subject,
    evidence: [...sandboxEvidence(fresh), { type: 'object', text: `${refLabel(subject)}: ${health.why}`, command: kubectl.get(subject, 'wide') }],
    rootCause: true,
    explains: explainsForPods(ctx.view, pods),
    advice: [
      `Read the agent's log on ${nodesOf(fresh).join(', ')}: kubectl -n ${subject.namespace} logs -l ${Object.entries(ds.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')} --all-containers --tail=50`,
      `On the node: ls /etc/cni/net.d /opt/cni/bin — a stale config that sorts first, or a missing plugin binary, breaks every sandbox.`,
    ],
  };
}

/** A plugin with no agent netdoctor knows (bridge, loopback, a vendor plugin): report its error as is. */
function genericFailure(ctx: CheckContext, stuck: Stuck[]): FindingDraft {
  const f = stuck[0]!.failure;
  const nodes = nodesOf(stuck);
  const pods = affectedPods(ctx, stuck);
  const binaryMissing = /failed to find plugin "([^"]+)"/.exec(f.cause);
  const named = f.pluginType ? ctx.view.list('DaemonSet').find((d) => (d.metadata?.name ?? '').includes(f.pluginType!.replace(/-cni$/, ''))) : undefined;
  return {
    severity: 'critical',
    code: 'CNI-PLUGIN-ERROR',
    title: `CNI plugin ${f.pluginType ?? ''} cannot set up pod networks`.replace(/\s+/g, ' '),
    summary: `On ${nodes.join(', ') || 'the node'} ${describeFailure(f)}, so ${plural(pods.length, 'pod')} stay in ContainerCreating without an IP${coreDnsNote(pods)}.`,
    subject: named ? refOf('DaemonSet', named) : { apiVersion: 'v1', kind: 'Node', name: nodes[0] ?? '' },
    evidence: [...sandboxEvidence(stuck, pods), ...nodes.slice(0, 2).map((n) => nodeReadyEvidence(ctx.view.get('Node', undefined, n), n))],
    rootCause: true,
    explains: explainsForPods(ctx.view, pods, nodes.map((name) => ({ apiVersion: 'v1', kind: 'Node', name }))),
    advice: binaryMissing
      ? [`Install the CNI reference plugins on ${nodes.join(', ')} (the "${binaryMissing[1]}" binary is missing from /opt/cni/bin): https://github.com/containernetworking/plugins/releases`]
      : [
          `Check the CNI agent for ${f.pluginType ?? 'the configured plugin'} on ${nodes.join(', ')} and the config in /etc/cni/net.d (the first file by name wins).`,
          `kubectl describe pod ${pods[0]?.metadata?.name ?? '<pod>'} -n ${pods[0]?.metadata?.namespace ?? '<ns>'} shows the full error.`,
        ],
  };
}

/** CNI-02: nodes report NetworkPluginNotReady and no CNI agent is installed at all. */
function noPodNetwork(ctx: CheckContext, nodes: KubeNode[]): FindingDraft {
  const names = nodes.map((n) => n.metadata?.name ?? '');
  // With no node Ready, every unscheduled pod waits for the network, even once its FailedScheduling event expired.
  const allDown = nodes.length === ctx.view.list('Node').length;
  const pending = allDown ? ctx.view.list('Pod').filter((p) => podState(p) === 'pending') : [];
  const pods = [...new Set([...podsWithoutNetwork(ctx.view, new Set(names)), ...pending])];
  const subnet = kubeadmPodSubnet(ctx.view);
  return {
    severity: 'critical',
    code: 'CNI-NOT-INSTALLED',
    title: `No pod network: ${names.length === 1 ? `node ${names[0]} reports` : `${names.length} nodes report`} "cni plugin not initialized"`,
    summary:
      `No CNI add-on is installed: the container runtime on ${names.join(', ')} has no network config, so the node stays NotReady and pods (CoreDNS first) cannot be scheduled or get an IP. ` +
      `Right after kubeadm init this is expected until a pod network is applied${pods.length ? `; ${plural(pods.length, 'pod')} wait for it` : ''}.`,
    subject: { apiVersion: 'v1', kind: 'Node', name: names[0] ?? '' },
    evidence: [
      ...nodes.slice(0, 3).map((n) => nodeReadyEvidence(n, n.metadata?.name ?? '')),
      { type: 'command', text: 'No CNI agent DaemonSet (weave-net, kube-flannel-ds, calico-node, cilium) among the namespaces read', command: 'kubectl get daemonsets -A' },
      ...pods.slice(0, 2).flatMap((p) => podFailureEvidence(ctx.view, p, ctx.now, 1).slice(0, 2)),
    ],
    rootCause: true,
    explains: explainsForPods(ctx.view, pods, names.map((name) => ({ apiVersion: 'v1', kind: 'Node', name }))),
    advice: [
      `Install one pod network add-on whose pod range matches the cluster's pod CIDR${subnet ? ` (kubeadm-config networking.podSubnet = ${subnet})` : ' (kubeadm-config networking.podSubnet; flannel defaults to 10.244.0.0/16, Calico to 192.168.0.0/16)'}; netdoctor cannot choose it for you. For example:`,
      ...CNI_AGENTS.filter((a) => a.family !== 'weave').map((a) => `${a.product}: ${a.install[0]}`),
      `Then: kubectl get nodes (Ready) and kubectl -n kube-system get pods -l k8s-app=kube-dns (Running).`,
    ],
  };
}

export const cniNotRunning: Check = {
  id: 'cni-not-running',
  title: 'CNI configured but its agent is not running: pods stuck in ContainerCreating, nodes NetworkPluginNotReady',
  codes: ['CNI-AGENT-MISSING', 'CNI-STALE-CONFIG', 'CNI-AGENT-STARTING', 'CNI-AGENT-NOT-ON-NODE', 'CNI-AGENT-UNHEALTHY', 'CNI-AGENT-DOWN-ON-NODE', 'CNI-FAILING-AGENT-READY', 'CNI-PLUGIN-ERROR', 'CNI-NOT-INSTALLED'],
  needs: ['Pod', 'Event', 'DaemonSet', 'Node', 'Namespace', 'Service', 'ReplicaSet', 'ConfigMap'],
  reads: {
    ConfigMap: ['data', 'metadata.labels'],
    DaemonSet: ['metadata.creationTimestamp', 'metadata.generation', 'spec.selector', 'spec.template.metadata.labels', 'status'],
    Event: ['count', 'lastTimestamp', 'message', 'reason', 'type'],
    Node: ['status.conditions'],
    Pod: ['metadata.creationTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'spec.containers.name', 'spec.hostNetwork', 'spec.initContainers', 'spec.nodeName', 'status.conditions', ...CONTAINER_STATUS_READS, 'status.phase', 'status.podIP', 'status.startTime'],
    ReplicaSet: ['metadata.ownerReferences'],
    Service: ['spec.selector'],
  },
  run(ctx) {
    const findings: FindingDraft[] = [];
    const stuck = stuckPods(ctx);
    const notReady = ctx.view.list('Node').filter((n) => networkNotReadyMessage(n) !== undefined);
    const unavailable = ctx.view.list('Node').filter((n) => networkUnavailableCondition(n) !== undefined);
    const installed = CNI_AGENTS.flatMap((agent) => agentDaemonSets(ctx.view, agent).map((ds) => ({ agent, ds })));

    const groups = new Map<string, Stuck[]>();
    for (const s of stuck) {
      const key = s.failure.family === 'other' ? `other:${s.failure.pluginType ?? ''}` : s.failure.family;
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }

    const handled = new Set<string>();
    for (const [key, group] of groups) {
      const agent = agentOf(group[0]!.failure.family);
      if (!agent || key.startsWith('other:')) {
        findings.push(genericFailure(ctx, group));
        continue;
      }
      const mine = installed.filter((i) => i.agent === agent);
      if (mine.length === 0) {
        const healthyOther = installed.find((i) => agentHealth(ctx.view, i.ds, ctx.now).state === 'healthy');
        findings.push(healthyOther ? staleConfig(ctx, agent, group, healthyOther) : agentMissing(ctx, agent, group));
        continue;
      }
      const nodes = nodesOf(group);
      const ds = mine.find((i) => nodes.some((n) => agentHealth(ctx.view, i.ds, ctx.now).pods.some((p) => p.spec?.nodeName === n)))?.ds ?? mine[0]!.ds;
      handled.add(refKey(refOf('DaemonSet', ds)));
      const onlyAgent = installed.length === 1;
      const nodeNotReady = onlyAgent ? notReady : [];
      const nodeUnavailable = onlyAgent ? unavailable : [];
      const health = agentHealth(ctx.view, ds, ctx.now, [...nodes, ...[...nodeNotReady, ...nodeUnavailable].map((n) => n.metadata?.name ?? '')]);
      if (health.state === 'healthy') {
        const f = failingDespiteHealthy(ctx, agent, ds, health, group);
        if (f) findings.push(f);
      } else {
        findings.push(agentDown(ctx, agent, ds, health, group, nodeNotReady, nodeUnavailable));
      }
    }

    // Agents that are down before any pod reported a sandbox failure (or whose events expired).
    for (const { agent, ds } of installed) {
      if (handled.has(refKey(refOf('DaemonSet', ds)))) continue;
      const nodeNotReady = installed.length === 1 ? notReady : [];
      const nodeUnavailable = installed.length === 1 ? unavailable : [];
      const health = agentHealth(ctx.view, ds, ctx.now, [...nodeNotReady, ...nodeUnavailable].map((n) => n.metadata?.name ?? ''));
      if (health.state !== 'healthy') findings.push(agentDown(ctx, agent, ds, health, [], nodeNotReady, nodeUnavailable));
    }

    if (notReady.length > 0 && installed.length === 0) findings.push(noPodNetwork(ctx, notReady));
    return findings;
  },
};
