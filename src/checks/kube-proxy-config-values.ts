import type { Check, CheckContext } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import { type ObjectRef, kubectl, refOf } from '../domain/object-ref';
import { type Plan, makePlan } from '../domain/plan';
import { kubeadmPodSubnet } from './support/cni';
import { CidrSet, parseCidr } from './support/cidr';
import { objectEvidence } from './support/evidence';
import { pointer, testAndReplace } from './support/json-patch';
import {
  type Container,
  type KubeProxyDaemonSet,
  type LoadedConfig,
  commandLine,
  configFlag,
  configPathFault,
  crashEvidence,
  crashLogEvidence,
  crashingPods,
  kubeProxyDaemonSets,
  kubeconfigFault,
  loadedConfig,
  restartOperation,
  withConfigValue,
} from './support/kube-proxy';
import { podsOf, CONTAINER_STATUS_READS } from './support/pods';
import { editDistance } from './support/services';

const ID = 'kube-proxy-config-values';

/** Linux proxy modes kube-proxy accepts (pkg/proxy/apis/config/validation, validateProxyModeLinux); "" picks the best available. */
const LINUX_MODES = ['iptables', 'ipvs', 'nftables'];

/** The IPVS schedulers the Linux kernel ships (net/netfilter/ipvs/ip_vs_*.c); kube-proxy uses whatever the kernel accepts. */
const IPVS_SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'];

/** Scheduler spellings whose meaning is unambiguous: the algorithm's name as ipvsadm(8) writes it. */
const SCHEDULER_NAMES: Record<string, string> = {
  roundrobin: 'rr',
  weightedroundrobin: 'wrr',
  leastconnection: 'lc',
  leastconnections: 'lc',
  weightedleastconnection: 'wlc',
  weightedleastconnections: 'wlc',
  localitybasedleastconnection: 'lblc',
  localitybasedleastconnectionwithreplication: 'lblcr',
  destinationhashing: 'dh',
  sourcehashing: 'sh',
  shortestexpecteddelay: 'sed',
  neverqueue: 'nq',
  weightedfailover: 'fo',
  weightedoverflow: 'ovf',
  maglevhashing: 'mh',
};

/** One configuration value kube-proxy refuses to start with. */
interface BadValue {
  code: string;
  /** Where it sits in config.conf, e.g. ['ipvs', 'scheduler']. */
  path: string[];
  value: string;
  /** Why kube-proxy rejects it, in words. */
  why: string;
  /** The value to write instead, only when there is exactly one right answer. */
  fix?: { value: string; because: string };
  /** What in a crash log says kube-proxy exited because of this value. */
  logSays: RegExp;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** klog quotes the error text, so a value appears as \"value\" inside err="…". */
const invalidValue = (value: string): RegExp => new RegExp(`Invalid value: \\\\?"${escape(value)}\\\\?"`);

function badMode(mode: string): BadValue | undefined {
  if (mode === '' || LINUX_MODES.includes(mode)) return undefined;
  const lower = mode.toLowerCase().trim();
  // A case variant, or a misspelling long enough to be one ("iptable", "ipvss"): never a guess from two letters.
  const near = LINUX_MODES.filter((m) => m === lower || (lower.length >= 5 && editDistance(m, lower) <= 2));
  const bad: BadValue = {
    code: 'KP-CONFIG-MODE',
    path: ['mode'],
    value: mode,
    why:
      lower === 'userspace'
        ? 'the userspace proxier was removed in Kubernetes 1.26'
        : lower === 'kernelspace'
          ? 'kernelspace is the Windows proxier'
          : `kube-proxy on Linux accepts ${LINUX_MODES.join(', ')} or blank`,
    logSays: new RegExp(`${invalidValue(mode).source}: must be .*or blank`),
  };
  if (near.length === 1) bad.fix = { value: near[0]!, because: `"${mode}" is a misspelling of ${near[0]}` };
  return bad;
}

function badScheduler(config: Record<string, unknown>): BadValue | undefined {
  if (config.mode !== 'ipvs') return undefined;
  const scheduler = (config.ipvs as { scheduler?: unknown } | undefined)?.scheduler;
  if (typeof scheduler !== 'string' || scheduler === '' || IPVS_SCHEDULERS.includes(scheduler)) return undefined;
  const key = scheduler.toLowerCase().replace(/[^a-z]/g, '');
  const meant = IPVS_SCHEDULERS.includes(key) ? key : SCHEDULER_NAMES[key];
  const bad: BadValue = {
    code: 'KP-IPVS-SCHEDULER',
    path: ['ipvs', 'scheduler'],
    value: scheduler,
    why: `the kernel has no IPVS scheduler "${scheduler}" (it knows ${IPVS_SCHEDULERS.join(', ')}; blank means rr)`,
    // Up to 1.26 config validation rejects it; since 1.27 the kernel does, when kube-proxy creates its probe virtual server.
    logSays: new RegExp(`${invalidValue(scheduler).source}|can't use the IPVS proxier|Could not create dummy VS.*scheduler="${escape(scheduler)}"`),
  };
  if (meant) bad.fix = { value: meant, because: `the kernel calls the "${scheduler}" algorithm ${meant}` };
  return bad;
}

/** `clusterCIDR` (v1alpha1, comma-separated) and `detectLocal.clusterCIDRs`: kube-proxy exits when one is not a CIDR. */
function badClusterCidrs(ctx: CheckContext, config: Record<string, unknown>): BadValue[] {
  const mode = config.detectLocalMode;
  // Validated only when traffic is classified by cluster CIDR, the default.
  if (mode !== undefined && mode !== '' && mode !== 'ClusterCIDR') return [];
  const subnet = kubeadmPodSubnet(ctx.view);
  const found: BadValue[] = [];
  const fixFor = (): BadValue['fix'] => (subnet && parseCidr(subnet) ? { value: subnet, because: `kubeadm renders clusterCIDR from networking.podSubnet (${subnet}) in kubeadm-config` } : undefined);
  if (typeof config.clusterCIDR === 'string' && config.clusterCIDR !== '') {
    const parts = config.clusterCIDR.split(',');
    const broken = parts.filter((p) => !parseCidr(p));
    if (broken.length > 0 || parts.length > 2) {
      const bad: BadValue = {
        code: 'KP-CLUSTER-CIDR',
        path: ['clusterCIDR'],
        value: config.clusterCIDR,
        why: broken.length > 0 ? `${broken.map((b) => `"${b}"`).join(', ')} is not a CIDR block (address/prefix, e.g. 10.244.0.0/16)` : 'it lists more than one CIDR per IP family',
        logSays: new RegExp(`${invalidValue(broken[0] ?? config.clusterCIDR).source}|ClusterCIDRs?(\\[\\d\\])?: Invalid value`),
      };
      const fix = parts.length === 1 ? fixFor() : undefined;
      if (fix) bad.fix = fix;
      found.push(bad);
    }
  }
  const listed = (config.detectLocal as { clusterCIDRs?: unknown } | undefined)?.clusterCIDRs;
  if (Array.isArray(listed)) {
    listed.forEach((entry, i) => {
      if (typeof entry === 'string' && !parseCidr(entry)) {
        found.push({
          code: 'KP-CLUSTER-CIDR',
          path: ['detectLocal', 'clusterCIDRs', String(i)],
          value: entry,
          why: `"${entry}" is not a CIDR block (address/prefix, e.g. 10.244.0.0/16)`,
          logSays: invalidValue(entry),
        });
      }
    });
  }
  return found;
}

/** A kube-proxy flag as written in the container: `--proxy-mode=ipvs`, or `--proxy-mode` followed by `ipvs`. */
interface FlagAt {
  field: 'command' | 'args';
  index: number;
  token: string;
  value: string;
}

/** The config fields the check reads, and the flags that set them when kube-proxy runs without --config. */
const FLAGS: Record<string, string> = { mode: 'proxy-mode', 'ipvs.scheduler': 'ipvs-scheduler', clusterCIDR: 'cluster-cidr', detectLocalMode: 'detect-local-mode' };

function flagsOf(c: Container): Map<string, FlagAt> {
  const found = new Map<string, FlagAt>();
  for (const field of ['command', 'args'] as const) {
    const words = c[field] ?? [];
    words.forEach((w, i) => {
      const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(w);
      if (!m || !Object.values(FLAGS).includes(m[1]!)) return;
      if (m[2] !== undefined) found.set(m[1]!, { field, index: i, token: w, value: m[2] });
      else if (words[i + 1] !== undefined && !words[i + 1]!.startsWith('-')) found.set(m[1]!, { field, index: i + 1, token: words[i + 1]!, value: words[i + 1]! });
    });
  }
  return found;
}

/** Where the values come from: the --config file in its ConfigMap, or (without --config) the command-line flags. */
type ValuesSource = { kind: 'config'; loaded: LoadedConfig } | { kind: 'flags'; flags: Map<string, FlagAt> };

export interface ConfigValuesFault {
  kp: KubeProxyDaemonSet;
  source: ValuesSource;
  bad: BadValue[];
}

function sourceOf(ctx: CheckContext, kp: KubeProxyDaemonSet): { source: ValuesSource; config: Record<string, unknown> } | undefined {
  // With --config, kube-proxy replaces every flag's value with the file's (cmd/kube-proxy/app/options.go, Complete).
  if (configFlag(kp.container)) {
    const loaded = loadedConfig(ctx.view, kp);
    if (!loaded?.config || loaded.config.kind !== 'KubeProxyConfiguration') return undefined;
    return { source: { kind: 'config', loaded }, config: loaded.config };
  }
  const flags = flagsOf(kp.container);
  const value = (field: string): string | undefined => flags.get(FLAGS[field]!)?.value;
  const config: Record<string, unknown> = { mode: value('mode'), ipvs: { scheduler: value('ipvs.scheduler') }, clusterCIDR: value('clusterCIDR'), detectLocalMode: value('detectLocalMode') };
  return { source: { kind: 'flags', flags }, config };
}

/**
 * The values this check judges: not a Windows kube-proxy's, and none while kube-proxy cannot read its config or
 * kubeconfig at all (kube-proxy-config-path and kube-proxy-kubeconfig own those).
 */
function judgedSource(ctx: CheckContext, kp: KubeProxyDaemonSet): ReturnType<typeof sourceOf> {
  if (kp.spec.nodeSelector?.['kubernetes.io/os'] === 'windows' || configPathFault(ctx.view, kp) || kubeconfigFault(ctx.view, kp)) return undefined;
  return sourceOf(ctx, kp);
}

/** KP-02/KP-03: values in kube-proxy's config file (or its flags) that make it exit at start. */
export function configValuesFault(ctx: CheckContext, kp: KubeProxyDaemonSet): ConfigValuesFault | undefined {
  const found = judgedSource(ctx, kp);
  if (!found) return undefined;
  const { config } = found;
  const bad = [
    ...(typeof config.mode === 'string' ? [badMode(config.mode)] : []),
    badScheduler(config),
    ...badClusterCidrs(ctx, config),
  ].filter((b): b is BadValue => b !== undefined);
  return bad.length > 0 ? { kp, source: found.source, bad } : undefined;
}

/** `mode`, or `--proxy-mode` when the value is a flag. */
const nameOf = (fault: ConfigValuesFault, b: BadValue): string => (fault.source.kind === 'flags' ? `--${FLAGS[b.path.join('.')]}` : b.path.join('.'));

function configPlan(fault: ConfigValuesFault, loaded: LoadedConfig): Plan {
  const { kp } = fault;
  let text = loaded.configText;
  for (const b of fault.bad) text = withConfigValue(text, b.path, b.value, b.fix!.value);
  const cm = loaded.configMount.configMap;
  const cmRef = { ...refOf('ConfigMap', cm), apiVersion: 'v1' };
  const changes = fault.bad.map((b) => `${b.path.join('.')}: ${b.fix!.value}`).join(', ');
  return makePlan({
    summary: `Set ${changes} in ConfigMap ${cmRef.name} (${loaded.configKey}), then restart kube-proxy`,
    risk: 'medium',
    effect: `the ConfigMap changes (${fault.bad.map((b) => b.fix!.because).join('; ')}), then the DaemonSet rolls its pods one node at a time: kube-proxy reads its config only at start`,
    operations: [
      { action: 'patch', target: cmRef, patchType: 'json', patch: testAndReplace(pointer('data', loaded.configKey), loaded.configText, text), resourceVersion: cm.metadata?.resourceVersion },
      restartOperation(kp, cm),
    ],
    verify: { check: ID, subject: kp.ref, waitFor: 'rollout' },
  });
}

function flagsPlan(fault: ConfigValuesFault, flags: Map<string, FlagAt>): Plan | null {
  const { kp } = fault;
  // OnDelete: a template change restarts nothing; the operator deletes the pods (advice).
  if (kp.ds.spec?.updateStrategy?.type === 'OnDelete') return null;
  const containerPath = pointer('spec', 'template', 'spec', 'containers', kp.containerIndex);
  const edits = fault.bad.flatMap((b) => {
    const at = flags.get(FLAGS[b.path.join('.')]!)!;
    const token = at.token === at.value ? b.fix!.value : at.token.slice(0, at.token.length - at.value.length) + b.fix!.value;
    return testAndReplace(`${containerPath}${pointer(at.field, at.index)}`, at.token, token);
  });
  return makePlan({
    summary: `Set ${fault.bad.map((b) => `--${FLAGS[b.path.join('.')]}=${b.fix!.value}`).join(' ')} on DaemonSet ${kp.ref.name}`,
    risk: 'medium',
    effect: `the DaemonSet's command line changes (${fault.bad.map((b) => b.fix!.because).join('; ')}) and it rolls its pods one node at a time`,
    operations: [
      {
        action: 'patch',
        target: kp.ref,
        patchType: 'json',
        patch: [{ op: 'test', path: `${containerPath}/name`, value: kp.container.name }, ...edits],
        resourceVersion: kp.ds.metadata?.resourceVersion,
      },
    ],
    verify: { check: ID, subject: kp.ref, waitFor: 'rollout' },
  });
}

function planFor(fault: ConfigValuesFault): Plan | null {
  // Fixing some values and not others leaves kube-proxy crashing: all of them exactly, or no plan.
  if (fault.bad.some((b) => !b.fix)) return null;
  return fault.source.kind === 'config' ? configPlan(fault, fault.source.loaded) : flagsPlan(fault, fault.source.flags);
}

/** Whether every address of `inner` lies in one of the blocks (same family, a prefix at least as long). */
function covered(blocks: CidrSet, inner: string): boolean {
  const c = parseCidr(inner);
  return Boolean(c && blocks.blocks.some((b) => b.family === c.family && c.prefix >= b.prefix) && blocks.has(c.address));
}

/** Node podCIDRs as a title can hold them: a few named, the rest counted (a cluster may have thousands of nodes). */
function someNodeCidrs(cidrs: string[]): string {
  return cidrs.length <= 4 ? cidrs.join(', ') : `${cidrs.slice(0, 3).join(', ')} and ${cidrs.length - 3} more node podCIDRs`;
}

/**
 * KP-03: a clusterCIDR that parses but does not cover the pod network (kubeadm's podSubnet, the nodes' podCIDRs).
 * kube-proxy starts and runs; it classifies pod traffic as off-cluster, so masquerading of traffic to ClusterIPs and
 * NodePort/hairpin behaviour go wrong. A warning: what breaks depends on the network.
 */
function clusterCidrMismatch(ctx: CheckContext, kp: KubeProxyDaemonSet): FindingDraft | undefined {
  const found = judgedSource(ctx, kp);
  if (found?.source.kind !== 'config') return undefined;
  const { config, source } = found;
  const mode = config.detectLocalMode;
  if (mode !== undefined && mode !== '' && mode !== 'ClusterCIDR') return undefined;
  const value = typeof config.clusterCIDR === 'string' ? config.clusterCIDR.trim() : '';
  if (!value || value.split(',').some((p) => !parseCidr(p))) return undefined;
  const blocks = new CidrSet();
  for (const p of value.split(',')) blocks.add(p);
  const subnet = kubeadmPodSubnet(ctx.view);
  const subnetOff = subnet !== undefined && parseCidr(subnet) !== undefined && !covered(blocks, subnet);
  const nodesOff = ctx.view.list('Node').flatMap((n) => (n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])).filter((c) => parseCidr(c) && !covered(blocks, c)).map((c) => ({ node: n.metadata?.name ?? '', cidr: c })));
  if (!subnetOff && nodesOff.length === 0) return undefined;
  const cmRef = refOf('ConfigMap', source.loaded.configMount.configMap);
  const network = subnetOff ? subnet : someNodeCidrs(nodesOff.map((n) => n.cidr));
  const fix = subnetOff && !value.includes(',') ? { value: subnet, because: `kubeadm renders clusterCIDR from networking.podSubnet (${subnet}) in kubeadm-config` } : undefined;
  const plan = fix ? configPlan({ kp, source, bad: [{ code: 'KP-CLUSTER-CIDR', path: ['clusterCIDR'], value, why: '', fix, logSays: /(?!)/ }] }, source.loaded) : null;
  return {
    code: 'KP-CLUSTER-CIDR',
    severity: 'warning',
    title: `kube-proxy clusterCIDR ${value} does not cover the pod network ${network}`,
    summary:
      `ConfigMap ${cmRef.namespace}/${cmRef.name} (${source.loaded.configKey}) sets clusterCIDR: ${value}, but pods get addresses from ${network}. ` +
      'kube-proxy starts and runs, yet treats pod traffic as coming from outside the cluster: traffic to ClusterIPs is masqueraded or not as it should not be, and NodePort/hairpin connections may fail depending on the network.',
    subject: kp.ref,
    evidence: [
      objectEvidence(cmRef, `${source.loaded.configKey}: clusterCIDR: ${JSON.stringify(value)}`, kubectl.get(cmRef)),
      ...(subnetOff ? [objectEvidence({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'kube-system', name: 'kubeadm-config' }, `kubeadm-config ClusterConfiguration networking.podSubnet: ${subnet}`)] : []),
      ...nodesOff.slice(0, 3).map((n) => objectEvidence({ apiVersion: 'v1', kind: 'Node', name: n.node }, `node/${n.node}: podCIDR ${n.cidr}`, kubectl.get({ kind: 'Node', name: n.node }, 'wide'))),
    ],
    rootCause: true,
    explains: [kp.ref],
    advice: plan ? [`The plan sets clusterCIDR to ${subnet} and rolls kube-proxy (it reads its configuration only at start).`] : [`Set clusterCIDR in ${cmRef.name} to the pod network (${network}), then: kubectl -n ${kp.ref.namespace} rollout restart daemonset/${kp.ref.name}`],
    plan,
  };
}

/**
 * KP-02/KP-03: kube-proxy's config.conf (or, without --config, its flags) holds a mode, IPVS scheduler or cluster CIDR
 * it exits on; confirmed by the crash log when one was read.
 */
export const kubeProxyConfigValues: Check = {
  id: ID,
  title: 'kube-proxy config.conf (or its flags) holds a value kube-proxy exits on (mode, IPVS scheduler, clusterCIDR)',
  codes: ['KP-CONFIG-MODE', 'KP-IPVS-SCHEDULER', 'KP-CLUSTER-CIDR'],
  needs: ['DaemonSet', 'ConfigMap', 'Pod', 'Event', 'ReplicaSet', 'Node'],
  infraOnly: true,
  reads: {
    ConfigMap: ['binaryData', 'data', 'metadata.resourceVersion'],
    Node: ['spec.podCIDR', 'spec.podCIDRs'],
    DaemonSet: ['metadata.resourceVersion', 'spec.template.spec.containers.args', 'spec.template.spec.containers.command', 'spec.template.spec.containers.name', 'spec.template.spec.containers.volumeMounts', 'spec.template.spec.nodeSelector', 'spec.template.spec.volumes', 'spec.updateStrategy'],
    Event: ['count', 'message', 'reason', 'type'],
    Pod: ['metadata.ownerReferences', 'status.conditions', ...CONTAINER_STATUS_READS, 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
  },
  run(ctx) {
    const findings: FindingDraft[] = [];
    for (const kp of kubeProxyDaemonSets(ctx.view)) {
      const fault = configValuesFault(ctx, kp);
      if (!fault) {
        const mismatch = clusterCidrMismatch(ctx, kp);
        if (mismatch) findings.push(mismatch);
        continue;
      }
      const pods = podsOf(ctx.view, kp.ref);
      const crashing = crashingPods(ctx.view, kp, ctx.now);
      const logs = crashing.map((p) => crashLogEvidence(ctx.view, p, kp.container.name)).filter((l) => l !== undefined);
      const lines = logs.flatMap((l) => l.lines);
      const confirmed = fault.bad.filter((b) => lines.some((line) => b.logSays.test(line)));
      const plan = planFor(fault);
      const source = fault.source;
      const values = fault.bad.map((b) => `${nameOf(fault, b)}${source.kind === 'flags' ? '=' : ': '}"${b.value}" (${b.why})`);
      const state =
        crashing.length > 0
          ? `kube-proxy exits at start (${crashing.length} of ${pods.length} pods crashing${confirmed.length > 0 ? ', and its log names the value' : ''})`
          : 'the running pods started before this value was set; each kube-proxy pod exits as soon as it restarts';
      // The crash log line that names the value, shown in the pods' evidence.
      const confirming = confirmed.length > 0 ? lines.find((line) => confirmed[0]!.logSays.test(line)) : undefined;
      const cmRef: ObjectRef | undefined = source.kind === 'config' ? refOf('ConfigMap', source.loaded.configMount.configMap) : undefined;
      const where = source.kind === 'config' ? `ConfigMap ${cmRef!.namespace}/${cmRef!.name} (${source.loaded.configKey}) sets` : `DaemonSet ${kp.ref.namespace}/${kp.ref.name} starts kube-proxy with`;
      const evidence: Evidence[] = [
        ...(source.kind === 'config'
          ? fault.bad.map((b) => objectEvidence(cmRef!, `${source.loaded.configKey}: ${b.path.join('.')}: ${JSON.stringify(b.value)}`, kubectl.get(cmRef!)))
          : [objectEvidence(kp.ref, `container ${kp.container.name} command: ${commandLine(kp.container)}`)]),
        ...crashEvidence(ctx.view, kp, crashing, confirming ?? 'failed validate'),
      ];
      const editHow = source.kind === 'config' ? `kubectl -n ${cmRef!.namespace} edit configmap ${cmRef!.name}` : `kubectl -n ${kp.ref.namespace} edit daemonset ${kp.ref.name}`;
      findings.push({
        code: fault.bad[0]!.code,
        severity: crashing.length > 0 ? 'critical' : 'warning',
        title: `kube-proxy ${source.kind === 'config' ? 'config.conf' : 'flags'}: invalid ${fault.bad.map((b) => nameOf(fault, b)).join(', ')}`,
        summary: `${where} ${values.join('; ')}. ${state}, so Service ClusterIPs and NodePorts are not programmed on those nodes.`,
        subject: kp.ref,
        evidence,
        rootCause: true,
        explains: [kp.ref, ...crashing.map((p) => refOf('Pod', p))],
        advice: plan
          ? [`The plan rolls the DaemonSet (kube-proxy reads its configuration only at start). Watch it: kubectl -n ${kp.ref.namespace} rollout status daemonset/${kp.ref.name}`]
          : [
              ...fault.bad.filter((b) => !b.fix).map((b) => `Set ${nameOf(fault, b)} to the intended value (${b.why}); netdoctor cannot tell which one was meant: ${editHow}`),
              `Then restart kube-proxy: kubectl -n ${kp.ref.namespace} rollout restart daemonset/${kp.ref.name}`,
            ],
        plan,
      });
    }
    return findings;
  },
};
