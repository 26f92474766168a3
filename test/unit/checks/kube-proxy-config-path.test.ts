import { kubeProxyConfigPath } from '../../../src/checks/kube-proxy-config-path';
import { viewOf } from '../../support/view';
import { CONFIG_LOG, KUBECONFIG, PROXY_CONFIG, kubeProxyYaml } from './kube-proxy-fixtures';
import { loud, runOn } from './scenario-view';
import { describeShared } from '../../support/scenarios';

const run = (yaml: string, logs: Record<string, string> = {}, namespace = 'triton') =>
  kubeProxyConfigPath.run({ view: viewOf(yaml, logs), namespace, now: new Date() });
const BAD = ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/configuration.conf', '--hostname-override=$(NODE_NAME)'];

describe('kube-proxy-config-path', () => {
  it('flags --config naming a file the ConfigMap lacks, with a guarded JSON patch', () => {
    const [f, ...rest] = run(kubeProxyYaml({ command: BAD, crashing: true }), { 'kube-system/kube-proxy-abcde/kube-proxy#previous': CONFIG_LOG });
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, subject: { kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' } });
    expect(f!.summary).toContain('configuration.conf');
    expect(f!.summary).toContain('config.conf, kubeconfig.conf');
    expect(f!.explains).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'Pod', name: 'kube-proxy-abcde' })]));
    const log = f!.evidence.find((e) => e.type === 'log');
    expect(log).toEqual({ type: 'log', text: CONFIG_LOG.trim(), command: 'kubectl logs -n kube-system kube-proxy-abcde -c kube-proxy --previous' });
    expect(f!.evidence.some((e) => e.text.includes('CrashLoopBackOff'))).toBe(true);
    expect(f!.evidence[0]!.text).toContain('--config=/var/lib/kube-proxy/configuration.conf');
    const plan = f!.plan!;
    expect(plan).toMatchObject({ risk: 'medium', effect: 'the DaemonSet rolls its pods one node at a time', verify: { check: 'kube-proxy-config-path', waitFor: 'rollout', subject: { name: 'kube-proxy' } } });
    expect(plan.id).toMatch(/^plan-[0-9a-f]{16}$/);
    expect(plan.operations).toEqual([
      {
        action: 'patch',
        target: { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' },
        patchType: 'json',
        resourceVersion: '2001',
        patch: [
          { op: 'test', path: '/spec/template/spec/containers/0/name', value: 'kube-proxy' },
          { op: 'test', path: '/spec/template/spec/containers/0/command/1', value: '--config=/var/lib/kube-proxy/configuration.conf' },
          { op: 'replace', path: '/spec/template/spec/containers/0/command/1', value: '--config=/var/lib/kube-proxy/config.conf' },
        ],
      },
    ]);
  });

  it('does not fire when the path is a key (healthy), nor for a non-ConfigMap path', () => {
    expect(run(kubeProxyYaml())).toEqual([]);
    expect(run(kubeProxyYaml({ command: ['/usr/local/bin/kube-proxy', '--config=/etc/kube-proxy/config.conf'] }))).toEqual([]);
    expect(run(kubeProxyYaml({ command: ['/usr/local/bin/kube-proxy', '--kubeconfig=/var/lib/kube-proxy/kubeconfig.conf'] }))).toEqual([]);
  });

  it('honours the volume items projection', () => {
    const items = [{ key: 'config.conf', path: 'configuration.conf' }];
    expect(run(kubeProxyYaml({ command: BAD, items }))).toEqual([]);
    const [f] = run(kubeProxyYaml({ items: [{ key: 'config.conf', path: 'proxy.conf' }] }));
    expect(f!.plan!.operations[0]!.patch).toContainEqual({ op: 'replace', path: '/spec/template/spec/containers/0/command/1', value: '--config=/var/lib/kube-proxy/proxy.conf' });
  });

  it('accepts --config as two words and patches the path word', () => {
    const [f] = run(kubeProxyYaml({ command: ['/usr/local/bin/kube-proxy', '--config', '/var/lib/kube-proxy/configuration.conf'] }));
    expect(f!.plan!.operations[0]!.patch).toContainEqual({ op: 'replace', path: '/spec/template/spec/containers/0/command/2', value: '/var/lib/kube-proxy/config.conf' });
  });

  it('reads args too, whatever the container is called', () => {
    const yaml = kubeProxyYaml().replace('- name: kube-proxy\n        image', '- name: proxy\n        image').replace(
      / {8}command:\n( {8}- .*\n)+/,
      '        command: [/usr/local/bin/kube-proxy]\n        args: ["--config=/var/lib/kube-proxy/configuration.conf", "--v=2"]\n',
    );
    const [f] = run(yaml);
    expect(f!.plan!.operations[0]!.patch).toEqual([
      { op: 'test', path: '/spec/template/spec/containers/0/name', value: 'proxy' },
      { op: 'test', path: '/spec/template/spec/containers/0/args/0', value: '--config=/var/lib/kube-proxy/configuration.conf' },
      { op: 'replace', path: '/spec/template/spec/containers/0/args/0', value: '--config=/var/lib/kube-proxy/config.conf' },
    ]);
  });

  it('advises instead of planning when the intended key is ambiguous', () => {
    const keys = { 'a.conf': PROXY_CONFIG(), 'b.conf': PROXY_CONFIG(), 'kubeconfig.conf': KUBECONFIG };
    const [f] = run(kubeProxyYaml({ command: BAD, keys }));
    expect(f!.plan).toBeNull();
    expect(f!.advice!.join(' ')).toContain('one of a.conf, b.conf');
  });

  it('deletes the pods too when the DaemonSet updates OnDelete', () => {
    const [f] = run(kubeProxyYaml({ command: BAD, crashing: true, updateStrategy: 'OnDelete' }));
    expect(f!.plan!.operations.map((o) => `${o.action} ${o.target.kind}/${o.target.name}`)).toEqual(['patch DaemonSet/kube-proxy', 'delete Pod/kube-proxy-abcde']);
  });

  describeShared('on the shared scenarios', () => {
    it('scenario triton-kube-proxy-config: first root cause with the exact fix', () => {
      const findings = runOn(kubeProxyConfigPath, 'triton-kube-proxy-config');
      expect(findings).toHaveLength(1);
      const f = findings[0]!;
      expect(f.subject).toMatchObject({ kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' });
      expect(JSON.stringify(f.plan)).toContain('--config=/var/lib/kube-proxy/config.conf');
      expect(f.evidence.map((e) => e.text).join('\n')).toContain('open /var/lib/kube-proxy/configuration.conf: no such file or directory');
      expect(f.evidence.map((e) => e.command)).toContain('kubectl logs -n kube-system kube-proxy-k58g8 -c kube-proxy --previous');
    });

    it.each(['healthy', 'triton-cni-missing'])('scenario %s: silent', (name) => {
      expect(loud(runOn(kubeProxyConfigPath, name))).toEqual([]);
    });
  });
});
