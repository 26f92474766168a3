/** Small kube-proxy fixtures: a DaemonSet, its ConfigMap and one pod (crashing or running). */
export interface KubeProxyFixture {
  command?: string[];
  keys?: Record<string, string>;
  items?: { key: string; path: string }[];
  crashing?: boolean;
  updateStrategy?: 'RollingUpdate' | 'OnDelete';
}

export const PROXY_CONFIG = (kubeconfig = '/var/lib/kube-proxy/kubeconfig.conf'): string =>
  `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclientConnection:\n  kubeconfig: ${kubeconfig}\nclusterCIDR: 10.244.0.0/16\nmode: ""\n`;
export const KUBECONFIG = 'apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://controlplane:6443\n  name: default\n';

/** ConfigMap kube-system/kubeadm-config as kubeadm writes it (ClusterConfiguration), with the fields the checks read. */
export const kubeadmConfigYaml = (o: { controlPlaneEndpoint?: string } = {}): string => `
---
apiVersion: v1
kind: ConfigMap
metadata: {name: kubeadm-config, namespace: kube-system}
data:
  ClusterConfiguration: |
    apiVersion: kubeadm.k8s.io/v1beta3
    kind: ClusterConfiguration${o.controlPlaneEndpoint ? `\n    controlPlaneEndpoint: ${o.controlPlaneEndpoint}` : ''}
    networking:
      podSubnet: 10.244.0.0/16
      serviceSubnet: 10.96.0.0/12
`;

const indent = (text: string, n: number): string => text.split('\n').map((l) => ' '.repeat(n) + l).join('\n');

export function kubeProxyYaml(f: KubeProxyFixture = {}): string {
  const command = f.command ?? ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)'];
  const keys = f.keys ?? { 'config.conf': PROXY_CONFIG(), 'kubeconfig.conf': KUBECONFIG };
  const data = Object.entries(keys)
    .map(([k, v]) => `  ${k}: |\n${indent(v.trimEnd(), 4)}`)
    .join('\n');
  const items = f.items ? `\n          items:\n${f.items.map((i) => `          - {key: ${i.key}, path: ${i.path}}`).join('\n')}` : '';
  const cmd = command.map((c) => `        - ${JSON.stringify(c)}`).join('\n');
  const podCmd = command.map((c) => `    - ${JSON.stringify(c)}`).join('\n');
  const status = f.crashing
    ? `  phase: Running
  conditions: [{type: Ready, status: 'False'}]
  containerStatuses:
  - name: kube-proxy
    ready: false
    restartCount: 5
    state: {waiting: {reason: CrashLoopBackOff}}
    lastState: {terminated: {exitCode: 1, reason: Error}}`
    : `  phase: Running
  conditions: [{type: Ready, status: 'True'}]
  containerStatuses:
  - name: kube-proxy
    ready: true
    restartCount: 0
    state: {running: {startedAt: '2026-03-01T06:29:00Z'}}`;
  return `
apiVersion: v1
kind: ConfigMap
metadata: {name: kube-proxy, namespace: kube-system, resourceVersion: '1070'}
data:
${data}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: kube-proxy, namespace: kube-system, resourceVersion: '2001'}
spec:
  selector: {matchLabels: {k8s-app: kube-proxy}}
  updateStrategy: {type: ${f.updateStrategy ?? 'RollingUpdate'}}
  template:
    metadata: {labels: {k8s-app: kube-proxy}}
    spec:
      containers:
      - name: kube-proxy
        image: registry.k8s.io/kube-proxy:v1.26.0
        command:
${cmd}
        volumeMounts:
        - {name: kube-proxy, mountPath: /var/lib/kube-proxy}
        - {name: lib-modules, mountPath: /lib/modules, readOnly: true}
      volumes:
      - name: kube-proxy
        configMap:
          name: kube-proxy${items}
      - name: lib-modules
        hostPath: {path: /lib/modules}
---
apiVersion: v1
kind: Pod
metadata:
  name: kube-proxy-abcde
  namespace: kube-system
  resourceVersion: '3001'
  labels: {k8s-app: kube-proxy}
  ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: kube-proxy, controller: true, uid: x}]
spec:
  nodeName: node-1
  containers:
  - name: kube-proxy
    command:
${podCmd}
status:
${status}
`;
}

export const CONFIG_LOG = 'E0301 07:22:40.167988       1 run.go:74] "command failed" err="failed complete: open /var/lib/kube-proxy/configuration.conf: no such file or directory"\n';
