import type { Check } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import { kubectl } from '../domain/object-ref';
import { makePlan } from '../domain/plan';
import { objectEvidence } from './support/evidence';
import { hostIn, serviceNameOf, visibleEnv } from './support/hostnames';
import { pointer, testAndReplace } from './support/json-patch';
import { podTemplateOwners } from './support/services';

const ID = 'host-network-dns';
const TEMPLATE_SPEC = ['hostNetwork', 'dnsPolicy', 'containers.env', 'containers.envFrom', 'containers.name', 'containers.ports', 'initContainers'];

/**
 * DNS-12: a pod on the host network with dnsPolicy ClusterFirst (the default) gets the node's resolv.conf, not cluster
 * DNS (the kubelet falls back to Default), so the Service names its env holds do not resolve. ClusterFirstWithHostNet
 * is the policy for such pods. Node agents (kube-proxy, CNI) run this way on purpose: they name no Service.
 */
export const hostNetworkDns: Check = {
  id: ID,
  title: 'hostNetwork pods with dnsPolicy ClusterFirst that name cluster Services (they resolve with the node\'s resolv.conf)',
  codes: ['WL-HOSTNET-DNS-POLICY'],
  needs: ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod', 'Service', 'ConfigMap', 'Namespace'],
  reads: {
    ConfigMap: ['data'],
    DaemonSet: ['metadata.resourceVersion', 'spec.template.metadata.labels', ...TEMPLATE_SPEC.map((f) => `spec.template.spec.${f}`)],
    Deployment: ['metadata.resourceVersion', 'spec.strategy', 'spec.template.metadata.labels', ...TEMPLATE_SPEC.map((f) => `spec.template.spec.${f}`)],
    StatefulSet: ['metadata.resourceVersion', 'spec.template.metadata.labels', ...TEMPLATE_SPEC.map((f) => `spec.template.spec.${f}`)],
    Pod: ['metadata.deletionTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'metadata.resourceVersion', ...TEMPLATE_SPEC.map((f) => `spec.${f}`), 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences', 'metadata.resourceVersion', 'spec.template.metadata.labels', ...TEMPLATE_SPEC.map((f) => `spec.template.spec.${f}`)],
  },
  needsEverywhere: ['Service'],
  run(ctx) {
    const findings: FindingDraft[] = [];
    const namespaces = new Set(ctx.view.list('Namespace').map((n) => n.metadata?.name ?? ''));
    for (const owner of podTemplateOwners(ctx.view, ctx.namespace)) {
      const { spec, ref } = owner;
      if (spec.hostNetwork !== true || (spec.dnsPolicy ?? 'ClusterFirst') !== 'ClusterFirst') continue;
      const ns = ref.namespace ?? '';
      const named = visibleEnv(ctx.view, ns, spec).flatMap((e) => {
        const host = hostIn(e.variable, e.value);
        const target = host && serviceNameOf(host.host, ns, namespaces);
        return target && ctx.view.get('Service', target.namespace, target.name) ? [{ ...e, host: host.host, service: target }] : [];
      });
      if (named.length === 0) continue;
      const hosts = [...new Set(named.map((n) => n.host))];
      const path = `${owner.specPath}${pointer('dnsPolicy')}`;
      const patch =
        spec.dnsPolicy === undefined
          ? [
              { op: 'test' as const, path: `${owner.specPath}${pointer('hostNetwork')}`, value: true },
              { op: 'add' as const, path, value: 'ClusterFirstWithHostNet' },
            ]
          : testAndReplace(path, 'ClusterFirst', 'ClusterFirstWithHostNet');
      // On the host network the containers' ports are the node's: a Deployment's surge pod cannot start beside the
      // old one on the same node, so the rollout of any fix stalls (seen on the real node). No plan then.
      const strategy = ref.kind === 'Deployment' ? ctx.view.get('Deployment', ns, ref.name)?.spec?.strategy : undefined;
      const surge = strategy?.rollingUpdate?.maxSurge;
      const stalls =
        ref.kind === 'Deployment' && strategy?.type !== 'Recreate' && surge !== 0 && surge !== '0%' && spec.containers.some((c) => (c.ports ?? []).length > 0);
      const evidence: Evidence[] = [
        objectEvidence(ref, `${ref.kind.toLowerCase()}/${ref.name} pod spec: hostNetwork: true, dnsPolicy: ${spec.dnsPolicy ?? 'ClusterFirst (default)'}`),
        ...named.slice(0, 3).map((n) =>
          objectEvidence(ref, `container ${n.container}: ${n.variable}=${n.value} names Service ${n.service.namespace}/${n.service.name}`, kubectl.get({ kind: 'Service', namespace: n.service.namespace, name: n.service.name })),
        ),
      ];
      findings.push({
        code: 'WL-HOSTNET-DNS-POLICY',
        severity: 'critical',
        title: `${ref.kind} ${ref.name} runs on the host network with dnsPolicy ClusterFirst: ${hosts.join(', ')} do not resolve`,
        summary:
          `${ref.kind} ${ns}/${ref.name} sets hostNetwork: true and dnsPolicy ${spec.dnsPolicy ?? 'ClusterFirst (the default)'}. For host-network pods the kubelet then hands out the node's /etc/resolv.conf instead of cluster DNS, ` +
          `so the cluster names its containers use (${hosts.join(', ')}) fail to resolve. dnsPolicy ClusterFirstWithHostNet gives them cluster DNS while they keep the host network.`,
        subject: ref,
        evidence,
        rootCause: true,
        explains: [ref],
        advice: owner.bare
          ? [`A bare pod's dnsPolicy cannot be changed in place: recreate pod ${ref.name} with dnsPolicy: ClusterFirstWithHostNet (kubectl get pod ${ref.name} -n ${ns} -o yaml, edit, kubectl replace --force -f).`]
          : [
              ...(stalls
                ? [
                    `Its pods hold their ports on the node, so a rolling update cannot start a new pod beside the old one (the surge pod stays Pending: "didn't have free ports"): ` +
                      `kubectl -n ${ns} patch deployment ${ref.name} -p '{"spec":{"template":{"spec":{"dnsPolicy":"ClusterFirstWithHostNet"}}}}', then delete the old pods, or give the Deployment strategy rollingUpdate maxSurge: 0.`,
                  ]
                : []),
              `Or drop hostNetwork if the pod does not need the node's network: then ClusterFirst is right.`,
            ],
        plan: owner.bare || stalls
          ? null
          : makePlan({
              summary: `Set dnsPolicy ClusterFirstWithHostNet on ${ref.kind.toLowerCase()}/${ref.name}`,
              risk: 'low',
              effect: `The ${ref.kind} rolls its pods; they keep the host network and resolve cluster names through cluster DNS.`,
              operations: [{ action: 'patch', target: ref, patchType: 'json', patch, resourceVersion: owner.resourceVersion }],
              verify: { check: ID, subject: ref, waitFor: 'rollout' },
            }),
      });
    }
    return findings;
  },
};
