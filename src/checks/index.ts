import type { Check } from '../domain/check';
import { cniNotRunning } from './cni-not-running';
import { corednsLoop } from './coredns-loop';
import { kubeProxyConfigPath } from './kube-proxy-config-path';
import { kubeProxyCrashing } from './kube-proxy-crashing';
import { kubeProxyKubeconfig } from './kube-proxy-kubeconfig';
import { kubeDnsService } from './kube-dns-service';
import { serviceNoEndpoints } from './service-no-endpoints';
import { serviceTargetPort } from './service-target-port';
import { serviceEndpointsNotReady } from './service-endpoints-not-ready';
import { envMissingService } from './env-missing-service';
import { podNotRunning } from './pod-not-running';
import { nodeNetworkUnavailable } from './node-network-unavailable';
import { networkPolicyBlocks } from './network-policy-blocks';

/** The catalog: an explicit, ordered list (no auto-discovery). Order breaks ties between equally severe root causes. */
export const CHECKS: readonly Check[] = [
  cniNotRunning,
  kubeProxyConfigPath,
  kubeProxyKubeconfig,
  kubeProxyCrashing,
  corednsLoop,
  kubeDnsService,
  serviceNoEndpoints,
  serviceTargetPort,
  serviceEndpointsNotReady,
  envMissingService,
  nodeNetworkUnavailable,
  podNotRunning,
  networkPolicyBlocks,
];

export function findCheck(id: string): Check | undefined {
  return CHECKS.find((c) => c.id === id);
}
