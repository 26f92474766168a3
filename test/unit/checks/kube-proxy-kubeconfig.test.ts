import { kubeProxyKubeconfig, withKubeconfig } from '../../../src/checks/kube-proxy-kubeconfig';
import { kubeadmProxyKubeconfig } from '../../../src/checks/support/kube-proxy';
import { viewOf } from '../../support/view';
import { KUBECONFIG, PROXY_CONFIG, kubeProxyYaml, kubeadmConfigYaml } from './kube-proxy-fixtures';
import { loud, runOn, scenarioNames } from './scenario-view';
import { describeShared } from '../../support/scenarios';

const run = (yaml: string, logs: Record<string, string> = {}) => kubeProxyKubeconfig.run({ view: viewOf(yaml, logs), namespace: 'triton', now: new Date() });

describe('kube-proxy-kubeconfig', () => {
  it('flags clientConnection.kubeconfig naming a missing key and plans the ConfigMap fix plus a restart', () => {
    const keys = { 'config.conf': PROXY_CONFIG('/var/lib/kube-proxy/kube-config.conf'), 'kubeconfig.conf': KUBECONFIG };
    const log = 'E0301 07:22:40.1       1 run.go:74] "command failed" err="stat /var/lib/kube-proxy/kube-config.conf: no such file or directory"';
    const [f, ...rest] = run(kubeProxyYaml({ keys, crashing: true }), { 'kube-system/kube-proxy-abcde/kube-proxy#previous': log });
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, subject: { kind: 'DaemonSet', name: 'kube-proxy' } });
    expect(f!.summary).toContain('clientConnection.kubeconfig: /var/lib/kube-proxy/kube-config.conf');
    expect(f!.evidence.find((e) => e.type === 'log')?.text).toBe(log);
    const [cmPatch, restart] = f!.plan!.operations;
    expect(cmPatch).toMatchObject({ action: 'patch', target: { kind: 'ConfigMap', name: 'kube-proxy' }, patchType: 'json', resourceVersion: '1070' });
    const ops = cmPatch!.patch as { op: string; path: string; value: string }[];
    expect(ops.map((o) => `${o.op} ${o.path}`)).toEqual(['test /data/config.conf', 'replace /data/config.conf']);
    expect(ops[1]!.value).toBe(PROXY_CONFIG('/var/lib/kube-proxy/kubeconfig.conf'));
    expect(restart).toMatchObject({ action: 'patch', target: { kind: 'DaemonSet', name: 'kube-proxy' }, patchType: 'merge' });
    expect(f!.plan!.verify).toMatchObject({ check: 'kube-proxy-kubeconfig', waitFor: 'rollout' });
  });

  it('stays silent for the kubeadm default, an in-cluster config, a path outside the mount, and a missing --config file (KP-01)', () => {
    expect(run(kubeProxyYaml())).toEqual([]);
    expect(run(kubeProxyYaml({ keys: { 'config.conf': PROXY_CONFIG('""') } }))).toEqual([]);
    expect(run(kubeProxyYaml({ keys: { 'config.conf': PROXY_CONFIG('/etc/kubernetes/kube-proxy.conf') } }))).toEqual([]);
    expect(run(kubeProxyYaml({ command: ['kube-proxy', '--config=/var/lib/kube-proxy/configuration.conf'] }))).toEqual([]);
  });

  it('advises when no kubeconfig key exists', () => {
    const [f] = run(kubeProxyYaml({ keys: { 'config.conf': PROXY_CONFIG() } }));
    expect(f!.plan).toBeNull();
    expect(f!.advice!.join('\n')).toContain('rollout restart daemonset/kube-proxy');
  });

  describe('ConfigMap lacking kubeconfig.conf altogether', () => {
    // kube-proxy's log: client-go's loader stats the explicit kubeconfig path (tools/clientcmd/loader.go,
    // `os.Stat(rules.ExplicitPath)`), createClient returns that error (cmd/kube-proxy/app/server.go) and
    // component-base's cli.Run logs it as "command failed".
    const log = 'E0301 07:22:40.123456       1 run.go:74] "command failed" err="stat /var/lib/kube-proxy/kubeconfig.conf: no such file or directory"';
    const logs = { 'kube-system/kube-proxy-abcde/kube-proxy#previous': log };
    const onlyConfig = kubeProxyYaml({ keys: { 'config.conf': PROXY_CONFIG() }, crashing: true });
    const clusterInfo = (server: string) => `
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cluster-info, namespace: kube-public, resourceVersion: '300'}
data:
  kubeconfig: |
    apiVersion: v1
    clusters:
    - cluster:
        certificate-authority-data: LS0tLS1CRUdJTg==
        server: ${server}
      name: ""
    contexts: null
    kind: Config
    users: null`;
    const kubeadmConfig = (endpoint: string) => kubeadmConfigYaml({ controlPlaneEndpoint: endpoint });

    it("restores kubeadm's kubeconfig with the server kube-public/cluster-info publishes", () => {
      const [f, ...rest] = run(onlyConfig + clusterInfo('https://192.168.56.10:6443') + kubeadmConfig('other:6443'), logs);
      expect(rest).toEqual([]);
      expect(f).toMatchObject({ code: 'KP-KUBECONFIG-MISSING', severity: 'critical', rootCause: true, subject: { kind: 'DaemonSet', name: 'kube-proxy' } });
      expect(f!.evidence.find((e) => e.type === 'log')?.text).toBe(log);
      const [cmPatch, restart] = f!.plan!.operations;
      expect(cmPatch).toMatchObject({ action: 'patch', target: { kind: 'ConfigMap', namespace: 'kube-system', name: 'kube-proxy' }, patchType: 'json', resourceVersion: '1070' });
      expect(cmPatch!.patch).toEqual([
        { op: 'test', path: '/data/config.conf', value: expect.stringContaining('kind: KubeProxyConfiguration') },
        { op: 'add', path: '/data/kubeconfig.conf', value: kubeadmProxyKubeconfig('https://192.168.56.10:6443') },
      ]);
      expect(restart).toMatchObject({ target: { kind: 'DaemonSet', name: 'kube-proxy' }, patchType: 'merge' });
      expect(f!.plan!.effect).toContain('kube-public/cluster-info');
    });

    it("writes kubeadm's template: service-account CA and token, context default", () => {
      expect(kubeadmProxyKubeconfig('https://cp:6443')).toBe(
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters:',
          '- cluster:',
          '    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
          '    server: https://cp:6443',
          '  name: default',
          'contexts:',
          '- context:',
          '    cluster: default',
          '    namespace: default',
          '    user: default',
          '  name: default',
          'current-context: default',
          'users:',
          '- name: default',
          '  user:',
          '    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token',
        ].join('\n'),
      );
    });

    it('falls back to kubeadm-config controlPlaneEndpoint, and plans nothing when no address is known', () => {
      const [f] = run(onlyConfig + kubeadmConfig('controlplane:6443'), logs);
      expect((f!.plan!.operations[0]!.patch as { value?: string }[])[1]!.value).toContain('server: https://controlplane:6443');
      // No port: kubeadm would add its bind port, which the cluster does not record; never the Service ClusterIP.
      const [g] = run(onlyConfig + kubeadmConfig('controlplane'), logs);
      expect(g!.plan).toBeNull();
      expect(g!.advice!.join('\n')).toContain('cluster-info');
    });

    it('repoints instead of restoring when the ConfigMap has another kubeconfig file', () => {
      const keys = { 'config.conf': PROXY_CONFIG('/var/lib/kube-proxy/kubeconfig.conf'), 'kube.conf': KUBECONFIG };
      const [f] = run(kubeProxyYaml({ keys, crashing: true }) + clusterInfo('https://192.168.56.10:6443'), logs);
      expect((f!.plan!.operations[0]!.patch as { op: string }[]).map((o) => o.op)).toEqual(['test', 'replace']);
    });
  });

  it('edits only the kubeconfig line, keeping quotes', () => {
    expect(withKubeconfig('a: 1\nclientConnection:\n  kubeconfig: "/x/a.conf"\n', '/x/a.conf', '/x/b.conf')).toBe('a: 1\nclientConnection:\n  kubeconfig: "/x/b.conf"\n');
  });

  describeShared('on the shared scenarios', () => {
    it.each(scenarioNames())('scenario %s: silent', (name) => {
      expect(loud(runOn(kubeProxyKubeconfig, name))).toEqual([]);
    });
  });
});
