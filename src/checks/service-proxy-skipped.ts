import type { Check } from '../domain/check';
import type { FindingDraft } from '../domain/finding';
import { makePlan } from '../domain/plan';
import { objectEvidence } from './support/evidence';
import { pointer } from './support/json-patch';
import { serviceEndpoints, servicesInScope, svcRef } from './support/services';

const ID = 'service-proxy-skipped';

/**
 * SVC-07: labels kube-proxy's Service informer filters on (pkg/proxy/apis/well_known_labels.go, cmd/kube-proxy
 * server.go): a Service carrying either is never programmed, so its ClusterIP and NodePort answer nothing while its
 * selector, ports and endpoints all look right.
 */
const SKIP_LABELS = {
  'service.kubernetes.io/service-proxy-name': 'names another service proxy, so kube-proxy leaves it to that proxy',
  'service.kubernetes.io/headless': 'marks it headless, so kube-proxy programs no ClusterIP rules for it',
} as const;

/** Whether something the run read (kube-system and the namespace) could be the proxy the label names: a pod or DaemonSet carrying its name. */
function proxyRuns(view: Parameters<Check['run']>[0]['view'], name: string): boolean {
  const n = name.toLowerCase();
  return n !== '' && (view.list('DaemonSet').some((d) => (d.metadata?.name ?? '').toLowerCase().includes(n)) || view.list('Pod').some((p) => (p.metadata?.name ?? '').toLowerCase().includes(n)));
}

export const serviceProxySkipped: Check = {
  id: ID,
  title: 'Services kube-proxy skips because of a service-proxy-name or headless label',
  codes: ['SVC-PROXY-SKIPPED'],
  needs: ['Service', 'EndpointSlice', 'Endpoints', 'DaemonSet', 'Pod'],
  reads: {
    DaemonSet: [],
    Endpoints: ['subsets'],
    EndpointSlice: ['endpoints', 'metadata.labels'],
    Pod: [],
    Service: ['metadata.labels', 'metadata.resourceVersion', 'spec.clusterIP', 'spec.ports', 'spec.type'],
  },
  run(ctx) {
    const findings: FindingDraft[] = [];
    for (const svc of servicesInScope(ctx)) {
      const labels = svc.metadata?.labels ?? {};
      // A headless Service has no ClusterIP to program; the label is then only a restatement.
      if (!svc.spec?.clusterIP || svc.spec.clusterIP === 'None') continue;
      for (const [label, why] of Object.entries(SKIP_LABELS)) {
        const value = labels[label];
        if (value === undefined) continue;
        if (label === 'service.kubernetes.io/service-proxy-name' && proxyRuns(ctx.view, value)) continue;
        const ref = svcRef(svc);
        const endpoints = serviceEndpoints(ctx.view, svc);
        const ready = endpoints.endpoints.filter((e) => e.ready).length;
        const path = pointer('metadata', 'labels', label);
        findings.push({
          code: 'SVC-PROXY-SKIPPED',
          severity: 'critical',
          title: `kube-proxy skips Service ${ref.name}: label ${label}=${value}`,
          summary:
            `Service ${ref.namespace}/${ref.name} carries ${label}=${JSON.stringify(value)}, which ${why}. ` +
            `Its ClusterIP ${svc.spec.clusterIP}${svc.spec.type === 'NodePort' || svc.spec.type === 'LoadBalancer' ? ' and node ports' : ''} get no rules on any node, so connections time out or are refused although ${ready} ready endpoint${ready === 1 ? '' : 's'} back it.`,
          subject: ref,
          evidence: [
            objectEvidence(ref, `service/${ref.name} metadata.labels: ${label}=${value}`),
            objectEvidence(ref, `service/${ref.name}: clusterIP ${svc.spec.clusterIP}, ${ready} ready endpoint(s) from ${endpoints.source}`),
          ],
          rootCause: true,
          explains: [ref],
          advice:
            label === 'service.kubernetes.io/service-proxy-name'
              ? [`If another service proxy should serve it, deploy that proxy (no DaemonSet or pod named like ${JSON.stringify(value)} runs); otherwise remove the label.`]
              : [],
          plan: makePlan({
            summary: `Remove label ${label} from service/${ref.name}`,
            risk: 'low',
            effect: 'kube-proxy programs the Service on every node within seconds; nothing restarts',
            operations: [
              {
                action: 'patch',
                target: ref,
                patchType: 'json',
                patch: [
                  { op: 'test', path, value },
                  { op: 'remove', path },
                ],
                resourceVersion: svc.metadata?.resourceVersion,
              },
            ],
            verify: { check: ID, subject: ref, waitFor: 'none' },
          }),
        });
      }
    }
    return findings;
  },
};
