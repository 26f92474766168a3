import { kubeProxyKubeconfig, withKubeconfig } from '../../../src/checks/kube-proxy-kubeconfig';
import { viewOf } from '../../support/view';
import { KUBECONFIG, PROXY_CONFIG, kubeProxyYaml } from './kube-proxy-fixtures';
import { loud, runOn, scenarioNames } from './scenario-view';

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

  it('edits only the kubeconfig line, keeping quotes', () => {
    expect(withKubeconfig('a: 1\nclientConnection:\n  kubeconfig: "/x/a.conf"\n', '/x/a.conf', '/x/b.conf')).toBe('a: 1\nclientConnection:\n  kubeconfig: "/x/b.conf"\n');
  });

  it.each(scenarioNames())('scenario %s: silent', (name) => {
    expect(loud(runOn(kubeProxyKubeconfig, name))).toEqual([]);
  });
});
