import { unifiedDiff } from '../../../src/remediation/diff';

const ds = (config: string, rv: string) => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'kube-proxy', namespace: 'kube-system', resourceVersion: rv, generation: Number(rv) },
  spec: { template: { spec: { containers: [{ name: 'kube-proxy', command: ['/usr/local/bin/kube-proxy', config, '--hostname-override=$(NODE_NAME)'] }] } } },
  status: { numberReady: Number(rv) },
});

describe('unifiedDiff', () => {
  it('shows only the changed field, with context, ignoring status and server bookkeeping', () => {
    const diff = unifiedDiff(ds('--config=/var/lib/kube-proxy/configuration.conf', '1'), ds('--config=/var/lib/kube-proxy/config.conf', '2'), 'daemonset/kube-proxy');
    const changes = diff.split('\n').filter((l) => /^[-+][^-+]/.test(l));
    expect(changes).toEqual(['-            - --config=/var/lib/kube-proxy/configuration.conf', '+            - --config=/var/lib/kube-proxy/config.conf']);
    expect(diff).toMatch(/^--- daemonset\/kube-proxy\n\+\+\+ daemonset\/kube-proxy\n@@ -\d+,\d+ \+\d+,\d+ @@/);
    expect(diff).not.toMatch(/resourceVersion|numberReady|generation/);
  });

  it('is empty when nothing reviewable changed', () => {
    expect(unifiedDiff(ds('--config=a', '1'), ds('--config=a', '9'), 'x')).toBe('');
  });

  it('diffs a creation against /dev/null', () => {
    const diff = unifiedDiff(undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, 'configmap/c');
    expect(diff.split('\n').slice(0, 2)).toEqual(['--- /dev/null', '+++ configmap/c']);
    expect(diff).toContain('+kind: ConfigMap');
  });
});
