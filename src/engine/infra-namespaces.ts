/**
 * Namespaces whose objects every namespace run reads too, when they exist: the cluster's network
 * plumbing (kube-proxy, CoreDNS, CNI agents: flannel and calico install into their own).
 */
export const INFRA_NAMESPACES = ['kube-system', 'kube-flannel', 'calico-system', 'tigera-operator'];
