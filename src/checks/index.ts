import type { Check } from '../domain/check';
import { cniNotRunning } from './cni-not-running';
import { corednsBind } from './coredns-bind';
import { corednsCorefile } from './coredns-corefile';
import { corednsRbac } from './coredns-rbac';
import { corednsUpstream } from './coredns-upstream';
import { workloadImagePull } from './workload-image-pull';
import { podIpExhaustion } from './pod-ip-exhaustion';
import { daemonsetNoNodes } from './daemonset-no-nodes';
import { corednsLoop } from './coredns-loop';
import { kubeProxyConfigPath } from './kube-proxy-config-path';
import { kubeProxyCrashing } from './kube-proxy-crashing';
import { kubeProxyKubeconfig } from './kube-proxy-kubeconfig';
import { kubeProxyConfigValues } from './kube-proxy-config-values';
import { kubeDnsService } from './kube-dns-service';
import { serviceNoEndpoints } from './service-no-endpoints';
import { serviceTargetPort } from './service-target-port';
import { servicePortProtocol } from './service-port-protocol';
import { serviceProxySkipped } from './service-proxy-skipped';
import { probePortMismatch } from './probe-port-mismatch';
import { containerOomKilled } from './container-oom-killed';
import { serviceEndpointsNotReady } from './service-endpoints-not-ready';
import { serviceStaleEndpoints } from './service-stale-endpoints';
import { envMissingService } from './env-missing-service';
import { hostNetworkDns } from './host-network-dns';
import { ingressBackend } from './ingress-backend';
import { podNotRunning } from './pod-not-running';
import { nodeDuplicateIp } from './node-duplicate-ip';
import { nodeNetworkUnavailable } from './node-network-unavailable';
import { networkPolicyBlocks } from './network-policy-blocks';
import { dnsEgressBlocked } from './dns-egress-blocked';
import { intentDrift } from './intent-drift';

/** The catalog: an explicit, ordered list (no auto-discovery). Order breaks ties between equally severe root causes. */
export const CHECKS: readonly Check[] = [
  // First: an image that cannot be pulled is the deepest cause of whatever workload it keeps down (the CNI agent, CoreDNS).
  workloadImagePull,
  cniNotRunning,
  podIpExhaustion,
  daemonsetNoNodes,
  kubeProxyConfigPath,
  kubeProxyKubeconfig,
  kubeProxyConfigValues,
  kubeProxyCrashing,
  corednsLoop,
  corednsBind,
  corednsCorefile,
  corednsRbac,
  corednsUpstream,
  kubeDnsService,
  serviceNoEndpoints,
  serviceTargetPort,
  servicePortProtocol,
  serviceProxySkipped,
  probePortMismatch,
  containerOomKilled,
  serviceEndpointsNotReady,
  serviceStaleEndpoints,
  envMissingService,
  hostNetworkDns,
  ingressBackend,
  nodeNetworkUnavailable,
  nodeDuplicateIp,
  podNotRunning,
  networkPolicyBlocks,
  dnsEgressBlocked,
  // Last: the declared architecture is the tie-breaker, not the first suspect, when a concrete fault explains the same Service.
  intentDrift,
];

export function findCheck(id: string): Check | undefined {
  return CHECKS.find((c) => c.id === id);
}
