import type { Check, CheckContext } from '../domain/check';
import type { Evidence, FindingDraft, Severity } from '../domain/finding';
import type { Deployment, Pod, Service } from '../domain/kube-types';
import { type ObjectRef, kubectl, refOf } from '../domain/object-ref';
import { makePlan } from '../domain/plan';
import { startingCniAgent } from './support/cni';
import { DNS_NAMESPACE, clusterDnsService, coreDnsDeployment, coreDnsPods, coreDnsRef, dnsEndpoints, kubeletClusterDns } from './support/dns';
import { type JsonPatchOp, pointer, testAndReplace } from './support/json-patch';
import { podStateText } from './support/pod-evidence';
import { isReady, CONTAINER_STATUS_READS } from './support/pods';
import { formatSelector, selectorMatches } from './support/selectors';

const ID = 'kube-dns-service';
/** What kubeadm deploys CoreDNS with. */
const COREDNS_REPLICAS = 2;
/** Labels controllers stamp on pods; never what a selector should name. */
const GENERATED_LABELS = new Set(['pod-template-hash', 'controller-revision-hash', 'pod-template-generation']);
const BASELINE = 'dns 53/UDP→53, dns-tcp 53/TCP→53, metrics 9153/TCP→9153';
type Labels = Record<string, string>;
type ServicePort = NonNullable<NonNullable<Service['spec']>['ports']>[number];

const svcTarget = (svc: Service): ObjectRef & { apiVersion: string } => ({ ...refOf('Service', svc), apiVersion: 'v1' });
const portLabel = (p: ServicePort): string => `${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol ?? 'TCP'}→${p.targetPort ?? p.port}`;

/** The selector that picks the CoreDNS pods: the Deployment's matchLabels when every pod carries them. */
function wantedSelector(ctx: CheckContext, pods: Pod[]): Labels | undefined {
  const sel = coreDnsDeployment(ctx.view)?.spec?.selector;
  const labels = sel?.matchLabels;
  if (!labels || Object.keys(labels).length === 0 || (sel?.matchExpressions ?? []).length > 0) return undefined;
  return pods.every((p) => selectorMatches(labels, p.metadata?.labels)) ? labels : undefined;
}

/** `k8s-app=coredns` vs pods labelled `k8s-app=kube-dns`: what the CoreDNS pods carry under each selector key. */
function nearMiss(selector: Labels, pods: Pod[]): string[] {
  return Object.entries(selector).map(([k, v]) => {
    const values = [...new Set(pods.map((p) => p.metadata?.labels?.[k]).filter((x): x is string => x !== undefined))];
    if (values.length === 0) return `${k}=${v}: the CoreDNS pods have no ${k} label`;
    if (values.includes(v)) return `${k}=${v}: matches`;
    return `${k}=${v}: the CoreDNS pods are labelled ${values.map((x) => `${k}=${x}`).join(', ')}`;
  });
}

function selectorFinding(ctx: CheckContext, svc: Service, pods: Pod[]): FindingDraft {
  const selector = svc.spec?.selector ?? {};
  const ref = refOf('Service', svc);
  const want = wantedSelector(ctx, pods);
  const podLabels = formatSelector(
    Object.fromEntries(Object.entries(pods[0]?.metadata?.labels ?? {}).filter(([k]) => !GENERATED_LABELS.has(k))),
  );
  const misses = nearMiss(selector, pods).filter((m) => !m.endsWith(': matches'));
  const eps = dnsEndpoints(ctx.view, svc);
  const evidence: Evidence[] = [
    { type: 'object', text: `service/kube-dns -n kube-system selector ${formatSelector(selector) || '(none)'}; ${misses.join('; ')}`, command: kubectl.get(ref) },
    { type: 'command', text: `CoreDNS pods and their labels: ${pods.map((p) => p.metadata?.name).join(', ')} (${podLabels})`, command: kubectl.list('pods', DNS_NAMESPACE, ['-l', formatSelector(want ?? { 'k8s-app': 'kube-dns' }), '--show-labels']) },
    { type: 'object', text: `kube-dns endpoints (${eps.source}): ${eps.ready.length} ready, ${eps.notReady.length} not ready`, command: eps.command },
  ];
  const finding: FindingDraft = {
    severity: 'critical',
    code: 'DNS-SVC-SELECTOR',
    title: `kube-dns selector ${formatSelector(selector) || '(empty)'} selects no CoreDNS pods`,
    summary:
      `Service kube-system/kube-dns selects ${formatSelector(selector) || 'nothing'}, but the CoreDNS pods are labelled ${podLabels}, so the Service has no endpoints and every DNS lookup in the cluster times out (\`nslookup kubernetes.default\` fails) while CoreDNS itself runs fine.`,
    subject: ref,
    evidence,
    rootCause: true,
    explains: [ref],
  };
  if (want) {
    const operations = [
      {
        action: 'patch' as const,
        target: svcTarget(svc),
        patchType: 'json' as const,
        patch: testAndReplace('/spec/selector', selector, want),
        ...(svc.metadata?.resourceVersion ? { resourceVersion: svc.metadata.resourceVersion } : {}),
      },
    ];
    finding.plan = makePlan({
      summary: `Set the kube-dns selector to ${formatSelector(want)} (the CoreDNS Deployment's selector)`,
      risk: 'low',
      effect: 'The endpoints controller adds the CoreDNS pods to kube-dns at once; DNS answers resume without restarting anything.',
      operations,
      verify: { check: ID, subject: ref, waitFor: 'endpoints' },
    });
  } else {
    finding.advice = [`Set spec.selector of service kube-dns to the CoreDNS pods' labels (kubeadm default k8s-app=kube-dns): kubectl -n kube-system edit service kube-dns`];
  }
  return finding;
}

interface PortProblem {
  severity: Severity;
  text: string;
  fix?: JsonPatchOp[];
}

/** Service ports against the ports CoreDNS serves: 53/UDP and 53/TCP (the Corefile's server port) and what its containers declare. */
function portProblems(ctx: CheckContext, svc: Service, pods: Pod[]): PortProblem[] {
  const ports = svc.spec?.ports ?? [];
  const spec = coreDnsDeployment(ctx.view)?.spec?.template?.spec ?? pods[0]?.spec;
  const declared = (spec?.containers ?? []).flatMap((c) => (c.ports ?? []).map((p) => ({ port: p.containerPort, name: p.name, protocol: p.protocol ?? 'TCP' })));
  const corefile = ctx.view.get('ConfigMap', DNS_NAMESPACE, 'coredns')?.data?.Corefile;
  const serverPort = Number(/^\s*\.:(\d+)/m.exec(corefile ?? '')?.[1] ?? 53);
  const served = (port: number, protocol: string): boolean =>
    (port === serverPort && protocol !== 'SCTP') || declared.some((d) => d.port === port && d.protocol === protocol);
  const problems: PortProblem[] = [];
  for (const protocol of ['UDP', 'TCP']) {
    if (!ports.some((p) => p.port === 53 && (p.protocol ?? 'TCP') === protocol)) {
      problems.push({
        severity: protocol === 'UDP' ? 'critical' : 'warning',
        text: `no 53/${protocol} port: ${protocol === 'UDP' ? 'ordinary DNS queries (UDP) cannot reach CoreDNS' : 'large answers and TCP fallbacks fail'}`,
      });
    }
  }
  ports.forEach((p, i) => {
    const protocol = p.protocol ?? 'TCP';
    const target = p.targetPort ?? p.port;
    const critical = p.port === 53;
    if (typeof target === 'string' && !/^\d+$/.test(target)) {
      const named = declared.find((d) => d.name === target && d.protocol === protocol);
      if (!named) {
        const fixTo = declared.find((d) => d.port === p.port && d.protocol === protocol);
        problems.push({
          severity: critical ? 'critical' : 'info',
          text: `port ${portLabel(p)}: no CoreDNS container port is named "${target}" for ${protocol}${declared.length ? ` (declared: ${declared.map((d) => `${d.name ?? '?'} ${d.port}/${d.protocol}`).join(', ')})` : ''}, so the endpoints omit this port`,
          ...(fixTo ? { fix: testAndReplace(pointer('spec', 'ports', i, 'targetPort'), target, fixTo.name ?? fixTo.port) } : {}),
        });
      }
      return;
    }
    const number = Number(target);
    if (!served(number, protocol)) {
      const fixTo = served(p.port, protocol) ? p.port : undefined;
      problems.push({
        severity: critical ? 'critical' : 'info',
        text: `port ${portLabel(p)}: CoreDNS does not serve ${number}/${protocol} (it listens on ${serverPort}${declared.length ? `; declared ${declared.map((d) => `${d.port}/${d.protocol}`).join(', ')}` : ''})`,
        ...(fixTo !== undefined ? { fix: testAndReplace(pointer('spec', 'ports', i, 'targetPort'), p.targetPort, fixTo) } : {}),
      });
    }
  });
  return problems;
}

function portsFinding(ctx: CheckContext, svc: Service, problems: PortProblem[]): FindingDraft {
  const ref = refOf('Service', svc);
  const severity: Severity = problems.some((p) => p.severity === 'critical') ? 'critical' : problems.some((p) => p.severity === 'warning') ? 'warning' : 'info';
  const eps = dnsEndpoints(ctx.view, svc);
  const finding: FindingDraft = {
    severity,
    code: 'DNS-SVC-PORTS',
    title: 'kube-dns Service ports are wrong',
    summary: `Service kube-system/kube-dns does not route DNS to CoreDNS correctly: ${problems.map((p) => p.text).join('; ')}. ${severity === 'critical' ? 'Pods time out resolving names.' : 'DNS mostly works, but not fully.'}`,
    subject: ref,
    evidence: [
      { type: 'object', text: `service/kube-dns -n kube-system ports: ${(svc.spec?.ports ?? []).map(portLabel).join(', ') || '(none)'}; kubeadm baseline: ${BASELINE}`, command: kubectl.get(ref) },
      { type: 'object', text: `kube-dns endpoint ports (${eps.source}): ${eps.ports.join(', ') || '(none)'}`, command: eps.command },
    ],
    rootCause: true,
    explains: [ref],
  };
  const fixes = problems.filter((p) => p.fix);
  if (fixes.length === problems.length) {
    finding.plan = makePlan({
      summary: 'Point the kube-dns targetPorts at the ports CoreDNS serves',
      risk: 'low',
      effect: 'kube-proxy reprograms the kube-dns ClusterIP at once; no pod restarts.',
      operations: [
        {
          action: 'patch',
          target: svcTarget(svc),
          patchType: 'json',
          patch: fixes.flatMap((p) => p.fix!),
          ...(svc.metadata?.resourceVersion ? { resourceVersion: svc.metadata.resourceVersion } : {}),
        },
      ],
      verify: { check: ID, subject: ref, waitFor: 'endpoints' },
    });
  } else {
    finding.advice = [
      `Restore the kubeadm ports (${BASELINE}), keeping the clusterIP: kubectl -n kube-system edit service kube-dns`,
      `kubectl -n kube-system patch service kube-dns --type=json -p '[{"op":"replace","path":"/spec/ports","value":[{"name":"dns","port":53,"protocol":"UDP","targetPort":53},{"name":"dns-tcp","port":53,"protocol":"TCP","targetPort":53},{"name":"metrics","port":9153,"protocol":"TCP","targetPort":9153}]}]'`,
    ];
  }
  return finding;
}

/** Selector and ports are fine, but no endpoint is ready. */
function endpointsFinding(ctx: CheckContext, svc: Service, pods: Pod[]): FindingDraft | undefined {
  const eps = dnsEndpoints(ctx.view, svc);
  if (eps.source === 'none' || eps.ready.length > 0) return undefined;
  const ref = refOf('Service', svc);
  const ready = pods.filter(isReady);
  const evidence: Evidence[] = [
    { type: 'object', text: `kube-dns endpoints (${eps.source}): none ready${eps.notReady.length ? `; not ready: ${eps.notReady.join(', ')}` : ''}`, command: eps.command },
    ...pods.slice(0, 3).map((p): Evidence => ({ type: 'object', text: podStateText(p, ctx.now), command: kubectl.describe(refOf('Pod', p)) })),
  ];
  if (ready.length === 0) {
    // A symptom: whatever keeps CoreDNS from being Ready (no CNI, a loop, a crash) is the root cause.
    const cache = new Map<string, boolean>();
    const waitingOn = pods.map((p) => startingCniAgent(ctx, p, cache)).find(Boolean);
    const onlyWaiting = waitingOn !== undefined && pods.every((p) => startingCniAgent(ctx, p, cache));
    return {
      severity: onlyWaiting ? 'info' : 'critical',
      code: 'DNS-NO-READY-ENDPOINTS',
      title: 'kube-dns has no ready endpoints: no CoreDNS pod is Ready',
      summary: `Service kube-system/kube-dns selects the ${pods.length} CoreDNS pods, but none is Ready, so cluster DNS does not answer (\`Name does not resolve\` everywhere).${onlyWaiting ? ` They wait for the CNI agent ${waitingOn}, which is still starting.` : ''}`,
      subject: ref,
      evidence,
      rootCause: false,
      explains: [coreDnsRef(ctx.view, pods), ...pods.map((p) => refOf('Pod', p))],
      // Whatever keeps CoreDNS from being Ready is a finding about its pods or Deployment: it is the cause.
      dependsOn: [coreDnsRef(ctx.view, pods), ...pods.map((p) => refOf('Pod', p))],
    };
  }
  return {
    severity: 'warning',
    code: 'DNS-ENDPOINTS-NOT-PUBLISHED',
    title: 'kube-dns has no endpoints although CoreDNS is Ready',
    summary: `${ready.length} CoreDNS pods are Ready and selected by kube-dns, yet its ${eps.source} lists no ready endpoint: the endpoints controller (kube-controller-manager) is not publishing them, so DNS lookups fail.`,
    subject: ref,
    evidence,
    rootCause: true,
    explains: [ref],
    advice: [
      'Check kube-controller-manager: kubectl -n kube-system get pods -l component=kube-controller-manager, and its log for endpointslice errors.',
    ],
  };
}

/** NodeLocal DNSCache's link-local listener: there clusterDNS is not kube-dns's IP by design. */
const LINK_LOCAL = /^169\.254\.|^fe80:/i;

/**
 * kube-dns recreated without its clusterIP gets a new one, while every kubelet still writes the old
 * clusterDNS into pods' resolv.conf: selector, ports and endpoints look fine, and no lookup is answered.
 */
function clusterIpFinding(ctx: CheckContext, svc: Service): FindingDraft | undefined {
  const kubelet = kubeletClusterDns(ctx.view);
  const ip = svc.spec?.clusterIP;
  if (!kubelet || !ip || ip === 'None' || kubelet.ips.includes(ip) || kubelet.ips.some((n) => LINK_LOCAL.test(n))) return undefined;
  const ref = svcTarget(svc);
  const wanted = kubelet.ips[0]!;
  return {
    severity: 'critical',
    code: 'DNS-SVC-CLUSTERIP',
    title: `kube-dns has clusterIP ${ip}, but pods are told to use ${kubelet.ips.join(', ')}`,
    summary:
      `Service ${DNS_NAMESPACE}/${ref.name} has clusterIP ${ip}, while the kubelet writes nameserver ${kubelet.ips.join(', ')} (clusterDNS) into every pod's resolv.conf: ` +
      'no Service answers at that address, so every lookup from a pod times out, though CoreDNS and its endpoints are healthy. This is what recreating kube-dns without its clusterIP does.',
    subject: ref,
    evidence: [
      { type: 'object', text: `service/${ref.name} -n ${DNS_NAMESPACE}: clusterIP ${ip}`, command: kubectl.get(ref, 'wide') },
      { type: 'object', text: `ConfigMap ${DNS_NAMESPACE}/${kubelet.configMap}: kubelet clusterDNS: ${kubelet.ips.join(', ')}`, command: kubectl.get({ kind: 'ConfigMap', namespace: DNS_NAMESPACE, name: kubelet.configMap }) },
    ],
    rootCause: true,
    explains: [ref],
    advice: [
      `A Service's clusterIP cannot be changed in place: recreate kube-dns at ${wanted}: kubectl -n ${DNS_NAMESPACE} get service ${ref.name} -o yaml > kube-dns.yaml, set spec.clusterIP and spec.clusterIPs to ${wanted} (and drop metadata.resourceVersion and metadata.uid), then kubectl replace --force -f kube-dns.yaml`,
      `If ${wanted} is the wrong one (the cluster was re-addressed on purpose), change clusterDNS in /var/lib/kubelet/config.yaml on every node and in ConfigMap ${DNS_NAMESPACE}/${kubelet.configMap}, restart the kubelets, then recreate the pods so they get the new resolv.conf.`,
    ],
  };
}

export const kubeDnsService: Check = {
  id: ID,
  title: 'kube-dns Service: missing, not at the kubelet clusterDNS IP, selector that misses CoreDNS, wrong ports, no ready endpoints',
  codes: ['DNS-SVC-MISSING', 'DNS-SVC-CLUSTERIP', 'DNS-SCALED-TO-ZERO', 'DNS-SVC-SELECTOR', 'DNS-SVC-PORTS', 'DNS-NO-READY-ENDPOINTS', 'DNS-ENDPOINTS-NOT-PUBLISHED'],
  needs: ['Service', 'Pod', 'Deployment', 'ReplicaSet', 'EndpointSlice', 'Endpoints', 'ConfigMap', 'DaemonSet', 'Event'],
  infraOnly: true,
  reads: {
    ConfigMap: ['data'],
    DaemonSet: ['metadata.creationTimestamp', 'metadata.generation', 'spec.template.metadata.labels', 'status'],
    Deployment: ['metadata.resourceVersion', 'spec.replicas', 'spec.selector', 'spec.template.spec.containers.ports'],
    EndpointSlice: ['endpoints', 'metadata.labels', 'ports'],
    Event: ['message', 'reason', 'type'],
    Pod: ['metadata.creationTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'spec.nodeName', 'status.conditions', ...CONTAINER_STATUS_READS, 'status.phase', 'status.startTime'],
    ReplicaSet: ['metadata.ownerReferences'],
    Service: ['metadata.resourceVersion', 'spec.clusterIP', 'spec.ports', 'spec.selector'],
  },
  run(ctx) {
    const { view } = ctx;
    const svc = clusterDnsService(view);
    const pods = coreDnsPods(view);
    const deploy = coreDnsDeployment(view);
    if (!svc) {
      if (!deploy) return [];
      const ref: ObjectRef = { apiVersion: 'v1', kind: 'Service', namespace: DNS_NAMESPACE, name: 'kube-dns' };
      return [
        {
          severity: 'critical',
          code: 'DNS-SVC-MISSING',
          title: 'kube-dns Service is missing',
          summary: 'CoreDNS runs, but there is no kube-system/kube-dns Service in front of it, so the nameserver every pod uses (the kubelet clusterDNS IP) answers nothing.',
          subject: ref,
          evidence: [{ type: 'command', text: 'No Service kube-dns (nor one labelled k8s-app=kube-dns) in kube-system', command: kubectl.list('services', DNS_NAMESPACE) }],
          rootCause: true,
          explains: [ref],
          advice: [
            'Recreate it with clusterIP equal to the kubelet clusterDNS (ConfigMap kube-system/kubelet-config, usually 10.96.0.10) and the ports ' + BASELINE + '; on kubeadm clusters: kubeadm init phase addon coredns',
          ],
        },
      ];
    }
    const misaddressed = clusterIpFinding(ctx, svc);
    return [...(misaddressed ? [misaddressed] : []), ...serviceFindings(ctx, svc, pods, deploy)];
  },
};

/** What is wrong between kube-dns and the CoreDNS pods: none of them, a selector, ports, endpoints. */
function serviceFindings(ctx: CheckContext, svc: Service, pods: Pod[], deploy: Deployment | undefined): FindingDraft[] {
  if (pods.length === 0) {
    if (!deploy || (deploy.spec?.replicas ?? 1) !== 0) return [];
    const ref = refOf('Deployment', deploy);
    return [
      {
        severity: 'critical',
        code: 'DNS-SCALED-TO-ZERO',
        title: 'CoreDNS is scaled to zero',
        summary: 'Deployment kube-system/coredns has 0 replicas, so kube-dns has no endpoints and no name in the cluster resolves.',
        subject: ref,
        evidence: [{ type: 'object', text: `deployment/${deploy.metadata?.name} -n kube-system: replicas 0`, command: kubectl.get(ref) }],
        rootCause: true,
        explains: [ref, refOf('Service', svc)],
        advice: [],
        // kubeadm's CoreDNS runs 2 replicas (one per node where it can); the same as `kubectl scale --replicas=2`.
        plan: makePlan({
          summary: `Scale deployment/${ref.name} -n kube-system from 0 to ${COREDNS_REPLICAS} replicas`,
          risk: 'low',
          effect: 'CoreDNS pods start and join kube-dns as they become Ready; lookups resume without touching any other object.',
          operations: [
            {
              action: 'patch',
              target: { ...ref, apiVersion: 'apps/v1' },
              patchType: 'json',
              patch: testAndReplace('/spec/replicas', 0, COREDNS_REPLICAS),
              ...(deploy.metadata?.resourceVersion ? { resourceVersion: deploy.metadata.resourceVersion } : {}),
            },
          ],
          verify: { check: ID, subject: ref, waitFor: 'rollout' },
        }),
      },
    ];
  }
  const selected = pods.filter((p) => selectorMatches(svc.spec?.selector, p.metadata?.labels));
  if (selected.length === 0) return [selectorFinding(ctx, svc, pods)];
  const findings: FindingDraft[] = [];
  const problems = portProblems(ctx, svc, selected);
  if (problems.length > 0) findings.push(portsFinding(ctx, svc, problems));
  if (!problems.some((p) => p.severity === 'critical')) {
    const f = endpointsFinding(ctx, svc, selected);
    if (f) findings.push(f);
  }
  return findings;
}
