import type { Check } from '../domain/check';
import { cniNotRunning } from './cni-not-running';
import { kubeProxyConfigPath } from './kube-proxy-config-path';
import { kubeProxyCrashing } from './kube-proxy-crashing';
import { kubeProxyKubeconfig } from './kube-proxy-kubeconfig';

/** The catalog: an explicit, ordered list (no auto-discovery). Order breaks ties between equally severe root causes. */
export const CHECKS: readonly Check[] = [
  cniNotRunning,
  kubeProxyConfigPath,
  kubeProxyKubeconfig,
  kubeProxyCrashing,
];

export function findCheck(id: string): Check | undefined {
  return CHECKS.find((c) => c.id === id);
}
