// The fault library, in the order the node test runs it: the seed's two labs first, then the
// rest, faults that need a rollout or a crash to show before quick Service edits.
import type { Fault } from './fault';
import { cniAgentDeleted } from './cni-agent-deleted';
import { corednsLoop } from './coredns-loop';
import { corednsRbacForbidden } from './coredns-rbac-forbidden';
import { corednsScaledToZero } from './coredns-scaled-to-zero';
import { corefileReloadRefused } from './corefile-reload-refused';
import { corefileTypo } from './corefile-typo';
import { dbHostMissingService } from './db-host-missing-service';
import { dnsEgressDeny } from './dns-egress-deny';
import { insufficientCpu } from './insufficient-cpu';
import { kubeDnsSelector } from './kube-dns-selector';
import { kubeProxyConfigPath } from './kube-proxy-config-path';
import { kubeProxyKubeconfigMissing } from './kube-proxy-kubeconfig-missing';
import { netpolDenyMysql } from './netpol-deny-mysql';
import { noCniConfig } from './no-cni-config';
import { probeWrongPort } from './probe-wrong-port';
import { serviceProtocol } from './service-protocol';
import { serviceProxyLabel } from './service-proxy-label';
import { serviceSelectorTypo } from './service-selector-typo';
import { serviceTargetPort } from './service-target-port';
import { webappHostNetwork } from './webapp-host-network';

export const FAULTS: readonly Fault[] = [
  kubeProxyConfigPath,
  cniAgentDeleted,
  noCniConfig,
  corednsScaledToZero,
  serviceSelectorTypo,
  serviceTargetPort,
  netpolDenyMysql,
  dnsEgressDeny,
  kubeDnsSelector,
  corednsRbacForbidden,
  serviceProtocol,
  serviceProxyLabel,
  dbHostMissingService,
  webappHostNetwork,
  probeWrongPort,
  kubeProxyKubeconfigMissing,
  corefileReloadRefused,
  corefileTypo,
  corednsLoop,
  insufficientCpu,
];
