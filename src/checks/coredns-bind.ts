import type { Check, CheckContext } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import type { Deployment, KubeNode, Pod } from '../domain/kube-types';
import { type ObjectRef, kubectl, refOf } from '../domain/object-ref';
import { type Plan, makePlan } from '../domain/plan';
import {
  type CoreDnsLogLine,
  DNS_NAMESPACE,
  coreDnsExplains,
  coreDnsContainer,
  coreDnsCrashing,
  coreDnsDeployment,
  coreDnsLogLines,
  coreDnsPods,
  coreDnsRef,
  distinctLines,
  runsCurrentTemplate,
} from './support/dns';
import { logEvidence } from './support/evidence';
import { type JsonPatchOp, pointer, testAndReplace } from './support/json-patch';
import { podStateText } from './support/pod-evidence';
import { isReady, CONTAINER_STATUS_READS } from './support/pods';

const ID = 'coredns-bind';

/**
 * CoreDNS (github.com/coredns/caddy caddy.go, startServers) wraps a server's listener error as `Listen: %v` (TCP) or
 * `ListenPacket: %v` (UDP); the health and metrics listeners (plugin/health/health.go, plugin/metrics/metrics.go
 * OnStartup) return theirs bare, before the servers start. Go's net package words the cause:
 * `listen tcp :53: bind: permission denied`, `listen tcp :8080: bind: address already in use`.
 */
const BIND_LINE = /(?:^|\s)(?:(?:Listen|ListenPacket): )?listen (tcp|udp)[46]? (\S*): bind: (permission denied|address already in use)/;

type Cause = 'permission denied' | 'address already in use';
type Container = NonNullable<ReturnType<typeof coreDnsContainer>>['container'];

/** Docker before 17.x on SELinux hosts (CentOS/RHEL 7) is the runtime the kubeadm troubleshooting page names. */
const OLD_DOCKER = /^docker:\/\/1\.\d+\./;

function nodeText(node: KubeNode | undefined, name: string): string {
  const info = node?.status?.nodeInfo;
  const facts = [info?.containerRuntimeVersion, info?.osImage, info?.kernelVersion && `kernel ${info.kernelVersion}`].filter(Boolean);
  return facts.length ? `node ${name}: ${facts.join(', ')}` : `node ${name}`;
}

const nodesOf = (pods: readonly Pod[]): string[] => [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => Boolean(n)))];

/** The exact change for `bind: permission denied`, when the container's securityContext shows which guard blocks the bind. */
function permissionPlan(deploy: Deployment, index: number, container: Container, subject: ObjectRef): { plan: Plan; what: string } | undefined {
  const sc = container.securityContext;
  const base = ['spec', 'template', 'spec', 'containers', index, 'securityContext'] as const;
  const target = { ...subject, apiVersion: 'apps/v1' };
  const rv = deploy.metadata?.resourceVersion ? { resourceVersion: deploy.metadata.resourceVersion } : {};
  const verify = { check: ID, subject, waitFor: 'rollout' as const };
  if (sc?.allowPrivilegeEscalation === false) {
    return {
      what: 'allowPrivilegeEscalation: false (no_new_privs), so the NET_BIND_SERVICE file capability cannot take effect on this node',
      plan: makePlan({
        summary: `Set allowPrivilegeEscalation: true on container ${container.name} of deployment ${subject.name} (security-relevant workaround)`,
        risk: 'high',
        effect:
          'The Deployment rolls its pods; CoreDNS can bind :53 again. This weakens the pod\'s isolation (Kubernetes docs: "Disabling SELinux or setting allowPrivilegeEscalation to true can compromise the security of your cluster"): prefer the node-side fix and revert once it is done.',
        operations: [{ action: 'patch', target, patchType: 'json', patch: testAndReplace(pointer(...base, 'allowPrivilegeEscalation'), false, true), ...rv }],
        verify,
      }),
    };
  }
  const caps = sc?.capabilities;
  const dropsAll = (caps?.drop ?? []).some((c) => c.toUpperCase() === 'ALL');
  const adds = caps?.add ?? [];
  if (dropsAll && !adds.some((c) => c.toUpperCase() === 'NET_BIND_SERVICE' || c.toUpperCase() === 'CAP_NET_BIND_SERVICE')) {
    const patch: JsonPatchOp[] = caps?.add
      ? testAndReplace(pointer(...base, 'capabilities', 'add'), adds, [...adds, 'NET_BIND_SERVICE'])
      : [
          { op: 'test', path: pointer(...base, 'capabilities'), value: caps },
          { op: 'add', path: pointer(...base, 'capabilities', 'add'), value: ['NET_BIND_SERVICE'] },
        ];
    return {
      what: 'capabilities drop ALL without adding NET_BIND_SERVICE, so it may not bind a port below 1024',
      plan: makePlan({
        summary: `Add NET_BIND_SERVICE to the capabilities of container ${container.name} of deployment ${subject.name}`,
        risk: 'medium',
        effect: 'The Deployment rolls its pods; CoreDNS may bind :53 again (the kubeadm manifest adds exactly this capability).',
        operations: [{ action: 'patch', target, patchType: 'json', patch, ...rv }],
        verify,
      }),
    };
  }
  return undefined;
}

interface Failing {
  cause: Cause;
  address: string;
  hits: CoreDnsLogLine[];
  pods: Pod[];
  /** Only node facts point at the cause (no log line seen). */
  inferred: boolean;
}

/** Whether any log of the pod was read: when one was, it (not a guess from the node) says why the pod fails. */
function anyLog(ctx: CheckContext, pod: Pod): boolean {
  const namespace = pod.metadata?.namespace ?? DNS_NAMESPACE;
  const name = pod.metadata?.name ?? '';
  return (pod.spec?.containers ?? []).some((c) => [true, false].some((previous) => ctx.view.log({ namespace, pod: name, container: c.name, previous }) !== undefined));
}

/** From the logs; without any, crash-looping CoreDNS with no_new_privs on an old-Docker node (the seed's SELinux case) is still worth naming. */
function failing(ctx: CheckContext, allPods: Pod[], deploy: Deployment | undefined, container: Container | undefined): Failing | undefined {
  const pods = allPods.filter((p) => runsCurrentTemplate(deploy, p));
  const hits = coreDnsLogLines(ctx.view, pods, BIND_LINE).filter((h) => coreDnsCrashing(h.pod, ctx.now) || !isReady(h.pod));
  if (hits.length > 0) {
    const byCause = (c: Cause): CoreDnsLogLine[] => hits.filter((h) => h.match[3] === c);
    const cause: Cause = byCause('permission denied').length >= byCause('address already in use').length ? 'permission denied' : 'address already in use';
    const mine = byCause(cause);
    return { cause, address: mine[0]!.match[2] || ':53', hits: mine, pods: mine.map((h) => h.pod), inferred: false };
  }
  if (container?.securityContext?.allowPrivilegeEscalation !== false) return undefined;
  const suspects = pods.filter((p) => coreDnsCrashing(p, ctx.now) && !anyLog(ctx, p) && OLD_DOCKER.test(ctx.view.get('Node', undefined, p.spec?.nodeName ?? '')?.status?.nodeInfo?.containerRuntimeVersion ?? ''));
  return suspects.length > 0 ? { cause: 'permission denied', address: ':53', hits: [], pods: suspects, inferred: true } : undefined;
}

export const corednsBind: Check = {
  id: ID,
  title: 'CoreDNS cannot bind its port: `bind: permission denied` (SELinux / allowPrivilegeEscalation) or `address already in use` (hostNetwork)',
  codes: ['DNS-BIND-DENIED', 'DNS-PORT-IN-USE'],
  needs: ['Pod', 'Deployment', 'ReplicaSet', 'Node', 'Service'],
  infraOnly: true,
  reads: {
    Deployment: ['metadata.resourceVersion', 'spec.template.spec.containers.image', 'spec.template.spec.containers.name', 'spec.template.spec.containers.securityContext', 'spec.template.spec.hostNetwork'],
    Node: ['status.nodeInfo'],
    Pod: ['metadata.creationTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'spec.containers.image', 'spec.containers.name', 'spec.containers.securityContext', 'spec.hostNetwork', 'spec.nodeName', 'status.conditions', ...CONTAINER_STATUS_READS, 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
  },
  run(ctx) {
    const { view } = ctx;
    const pods = coreDnsPods(view);
    if (pods.length === 0) return [];
    const deploy = coreDnsDeployment(view);
    const found = coreDnsContainer(deploy);
    const fail = failing(ctx, pods, deploy, found?.container);
    if (!fail) return [];

    const subject = coreDnsRef(view, pods);
    const ready = pods.filter(isReady);
    const badNodes = nodesOf(fail.pods);
    const goodNodes = nodesOf(ready).filter((n) => !badNodes.includes(n));
    const hostNetwork = deploy?.spec?.template?.spec?.hostNetwork ?? fail.pods[0]?.spec?.hostNetwork ?? false;
    const evidence: Evidence[] = [
      ...distinctLines(fail.hits).map((h) => logEvidence(DNS_NAMESPACE, h.pod.metadata?.name ?? '', h.container, h.previous, [h.line])),
      ...fail.pods.slice(0, 2).map((p): Evidence => ({ type: 'object', text: podStateText(p, ctx.now), command: kubectl.describe(refOf('Pod', p)) })),
      ...[...badNodes, ...goodNodes].slice(0, 4).map((n): Evidence => ({
        type: 'object',
        text: `${nodeText(view.get('Node', undefined, n), n)}${badNodes.includes(n) ? ' (CoreDNS fails here)' : ' (CoreDNS runs here)'}`,
        command: kubectl.get({ kind: 'Node', name: n }, 'wide'),
      })),
    ];
    const sc = found?.container.securityContext;
    if (sc) {
      evidence.push({
        type: 'object',
        text: `deployment/${subject.name} -n ${DNS_NAMESPACE} container ${found.container.name} securityContext: allowPrivilegeEscalation ${sc.allowPrivilegeEscalation ?? '(unset)'}, capabilities add [${(sc.capabilities?.add ?? []).join(', ')}] drop [${(sc.capabilities?.drop ?? []).join(', ')}]${hostNetwork ? ', hostNetwork true' : ''}`,
        command: kubectl.get(subject),
      });
    }

    const where = badNodes.length ? `on node${badNodes.length > 1 ? 's' : ''} ${badNodes.join(', ')}` : '';
    const contrast = goodNodes.length ? ` while it runs on ${goodNodes.join(', ')}` : '';
    const explains = coreDnsExplains(view, pods, subject);
    const down = ready.length === 0;
    const finding: FindingDraft = {
      code: fail.cause === 'permission denied' ? 'DNS-BIND-DENIED' : 'DNS-PORT-IN-USE',
      severity: down ? 'critical' : 'warning',
      title: fail.cause === 'permission denied' ? `CoreDNS may not bind ${fail.address}: bind: permission denied` : `CoreDNS cannot bind ${fail.address}: address already in use`,
      summary: '',
      subject,
      evidence,
      rootCause: true,
      explains,
    };
    const line = fail.hits[0] ? `CoreDNS exits with \`${fail.hits[0].line}\`` : 'CoreDNS crash-loops';
    const tally = `${fail.pods.length} of ${pods.length} CoreDNS pods fail ${where}${contrast}${down ? ', so cluster DNS is down' : ''}.`;

    if (fail.cause === 'permission denied') {
      // The capability / no_new_privs story is about ports below 1024 only.
      const privileged = Number(fail.address.replace(/^.*:/, '')) < 1024;
      const fix = deploy && found && privileged ? permissionPlan(deploy, found.index, found.container, subject) : undefined;
      finding.summary = fail.inferred
        ? `${line} ${where} and no log was read; the node runs ${view.get('Node', undefined, badNodes[0] ?? '')?.status?.nodeInfo?.containerRuntimeVersion ?? 'an old Docker'} and the container sets allowPrivilegeEscalation: false: on SELinux hosts with this runtime CoreDNS cannot bind :53 (\`Listen: listen tcp :53: bind: permission denied\`). ${tally}`
        : `${line}: the kernel refuses the bind of port ${fail.address.replace(/^.*:/, '')} because ${fix?.what ?? (privileged ? 'the container lacks the privilege for a port below 1024 on this node' : 'a security module on the node (SELinux, AppArmor) forbids it')}. ${tally}`;
      const nodeList = badNodes.join(' ') || '<node>';
      finding.advice = [
        `Which node: the failing pods run ${where || 'on the nodes listed above'}${contrast}; \`kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide\` shows the node per pod, \`kubectl get nodes -o wide\` the CONTAINER-RUNTIME and OS-IMAGE of each.`,
        `On ${nodeList}: \`getenforce\` (Enforcing?), \`sudo ausearch -m avc -ts recent -c coredns\` (SELinux denials), and the runtime version (\`docker version\` / \`containerd --version\`).`,
        'The lasting fix is node-side: upgrade the container runtime (Docker 1.13 on CentOS/RHEL 7 is the known case; a current containerd or Docker handles no_new_privs with file capabilities under SELinux), or, if policy allows, put SELinux in permissive mode (`sudo setenforce 0` and SELINUX=permissive in /etc/selinux/config).',
        ...(fix
          ? ['The plan is the in-cluster workaround from the kubeadm troubleshooting page; revert it once the nodes are fixed, since it weakens the pods\' isolation.']
          : [`Give the coredns container the right to bind ${fail.address}: keep capabilities add [NET_BIND_SERVICE] and set allowPrivilegeEscalation: true, or run it as root: kubectl -n kube-system edit deployment ${subject.name}`]),
      ];
      if (fix && !fail.inferred) finding.plan = fix.plan;
    } else {
      const sameNode = hostNetwork && pods.length > nodesOf(pods).length;
      finding.summary =
        `${line}: ${hostNetwork ? `with hostNetwork: true CoreDNS binds ${fail.address} in the node's own network namespace, and another process there already holds the port` : `another listener inside the pod already holds ${fail.address}`}` +
        `${sameNode ? ' (two CoreDNS replicas share a node, so the second one collides with the first)' : ''}. ${tally}`;
      finding.advice = hostNetwork
        ? [
            `On ${badNodes.join(', ') || 'the node'}: \`sudo ss -lntup 'sport = :${fail.address.replace(/^.*:/, '') || '53'}'\` names the process holding the port (typically systemd-resolved, dnsmasq or another DNS server).`,
            'Free the port on the node (e.g. systemd-resolved: DNSStubListener=no in /etc/systemd/resolved.conf, then `sudo systemctl restart systemd-resolved`; or stop dnsmasq), or run CoreDNS without hostNetwork (kubeadm default) so it binds inside its own pod network namespace.',
            ...(sameNode ? [`Keep one replica per node: add a required podAntiAffinity on k8s-app=kube-dns to deployment ${subject.name}, or scale it to the number of nodes.`] : []),
          ]
        : [`Check the Corefile for two server blocks on the same port, and the pod for another container listening on it: kubectl -n kube-system get configmap coredns -o yaml`];
    }
    return [finding];
  },
};
