import { corednsLoop } from '../../../src/checks/coredns-loop';
import { ago, cluster, deployment, node, pod, rsOf, runCheck, scenario, scenarioNames, textOf } from './network-fixtures';
import { describeShared } from '../../support/scenarios';

const labels = { 'k8s-app': 'kube-dns' };
const LOOP =
  '[FATAL] plugin/loop: Loop (127.0.0.1:34614 -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 6074102630077018525.5798689655824409358."';

function corefile(forward: string) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'coredns', namespace: 'kube-system' },
    data: { Corefile: `.:53 {\n    errors\n    health\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa\n    forward . ${forward} {\n       max_concurrent 1000\n    }\n    cache 30\n    loop\n    reload\n}\n` },
  };
}

const kubeletConfig = (resolvConf: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'kubelet-config', namespace: 'kube-system' },
  data: { kubelet: `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nclusterDNS:\n- 10.96.0.10\nresolvConf: ${resolvConf}\n` },
});

const kubeDns = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { selector: labels } };

/** CoreDNS pods; `exitedMinutesAgo`: Running and Ready, their container restarted after exit code 1 (after 30 s of life) that long ago. */
function coreDns(shape: 'crashloop' | 'running', forward = '/etc/resolv.conf', logs: Record<string, string> = {}, extra: Record<string, unknown>[] = [], exitedMinutesAgo?: number) {
  const coreDnsPod = (name: string) => {
    const p = pod('kube-system', name, { owner: rsOf('coredns'), labels, shape, containers: ['coredns'] });
    if (exitedMinutesAgo !== undefined) {
      const [status] = (p.status as { containerStatuses: Record<string, unknown>[] }).containerStatuses;
      // The crashed instance lived 30 s; the current one started when it exited.
      const lastState = { terminated: { exitCode: 1, reason: 'Error', startedAt: ago(exitedMinutesAgo + 0.5), finishedAt: ago(exitedMinutesAgo) } };
      Object.assign(status!, { restartCount: 4, lastState, state: { running: { startedAt: ago(exitedMinutesAgo) } } });
    }
    return p;
  };
  return cluster(
    [
      node('node1'),
      ...deployment('kube-system', 'coredns', labels, { dnsPolicy: 'Default' }),
      coreDnsPod('coredns-5d4f8c7b9-aaaaa'),
      coreDnsPod('coredns-5d4f8c7b9-bbbbb'),
      corefile(forward),
      kubeDns,
      ...extra,
    ],
    logs,
  );
}

const loopLogs = {
  'kube-system/coredns-5d4f8c7b9-aaaaa/coredns#previous': `.:53\nCoreDNS-1.9.3\nlinux/amd64, go1.18.2, 45b0a11\n${LOOP}\n`,
  'kube-system/coredns-5d4f8c7b9-bbbbb/coredns#previous': `.:53\nCoreDNS-1.9.3\n${LOOP}\n`,
};

describe('coredns-loop', () => {
  it('finds the loop line in the previous log and says what to change on the node and in the Corefile', () => {
    const findings = runCheck(corednsLoop, coreDns('crashloop', '/etc/resolv.conf', loopLogs, [kubeletConfig('/etc/resolv.conf')]), 'triton');
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, subject: { kind: 'Deployment', namespace: 'kube-system', name: 'coredns' } });
    expect(f.summary).toContain('plugin/loop: Loop (127.0.0.1:34614 -> :53) detected for zone "."');
    expect(f.summary).not.toContain('HINFO');
    expect(f.summary).toContain('cluster DNS is down');
    expect(f.evidence).toContainEqual({ type: 'log', text: LOOP, command: 'kubectl logs -n kube-system coredns-5d4f8c7b9-aaaaa -c coredns --previous' });
    expect(textOf(f)).toContain('forward . /etc/resolv.conf');
    expect(textOf(f)).toContain('resolvconf: /etc/resolv.conf');
    const advice = f.advice!.join('\n');
    expect(advice).toContain('resolvConf: /run/systemd/resolve/resolv.conf');
    expect(advice).toContain('forward . <upstream DNS IPs>');
    expect(advice).toContain('rollout restart deployment coredns');
    expect(advice).toContain('Do not remove the `loop` plugin');
    expect(f.plan).toBeUndefined();
    expect(f.explains!.map((r) => `${r.kind}/${r.name}`)).toEqual(
      expect.arrayContaining(['Deployment/coredns', 'Pod/coredns-5d4f8c7b9-aaaaa', 'Service/kube-dns', 'ConfigMap/coredns']),
    );
  });

  it('recognises the older loop wordings', () => {
    const old = { 'kube-system/coredns-5d4f8c7b9-aaaaa/coredns#previous': '[FATAL] plugin/loop: Seen "HINFO IN 2050421060481615995.5620656063561519376." more than twice, loop detected\n' };
    expect(runCheck(corednsLoop, coreDns('crashloop', '/etc/resolv.conf', old), undefined)).toHaveLength(1);
    const older = { 'kube-system/coredns-5d4f8c7b9-bbbbb/coredns': 'plugin/loop: Forwarding loop detected in "." zone. Exiting. See https://coredns.io/plugins/loop#troubleshooting. Probe query: "HINFO 1.2."\n' };
    const [f] = runCheck(corednsLoop, coreDns('crashloop', '/etc/resolv.conf', older), undefined);
    expect(f!.summary).toContain('Forwarding loop detected in "." zone. Exiting.');
  });

  it('names the loop when CoreDNS is caught Ready between two crashes (its last error exit a minute ago)', () => {
    const [f, ...rest] = runCheck(corednsLoop, coreDns('running', '/etc/resolv.conf', loopLogs, [], 1), 'triton');
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ code: 'DNS-LOOP', severity: 'warning', rootCause: true });
    expect(f!.summary).toContain('2 of 2 CoreDNS pods are crash-looping');
    // An error exit two hours ago is not a crash loop: the kubelet restarts a crashing container within 5 minutes.
    expect(runCheck(corednsLoop, coreDns('running', '/etc/resolv.conf', loopLogs, [], 120), 'triton')).toHaveLength(0);
  });

  it('without logs, still blames a Corefile that forwards straight to loopback', () => {
    const [f, ...rest] = runCheck(corednsLoop, coreDns('crashloop', '127.0.0.53'), 'triton');
    expect(rest).toHaveLength(0);
    expect(f!.summary).toContain('forwards to 127.0.0.53');
    expect(f!.advice![0]).toContain('replace `forward . 127.0.0.53` with `forward . <upstream DNS IPs>`');
  });

  it('stays quiet for a crash-looping CoreDNS without a loop line (e.g. a Corefile parse error) and forward to resolv.conf', () => {
    const logs = { 'kube-system/coredns-5d4f8c7b9-aaaaa/coredns#previous': "/etc/coredns/Corefile:10 - Error during parsing: Unknown directive 'proxy'\n" };
    expect(runCheck(corednsLoop, coreDns('crashloop', '/etc/resolv.conf', logs), 'triton')).toHaveLength(0);
  });

  it('stays quiet for a healthy CoreDNS, even with the loop plugin and an old loop line in a log (look-alike)', () => {
    expect(runCheck(corednsLoop, coreDns('running'), 'triton')).toHaveLength(0);
    expect(runCheck(corednsLoop, coreDns('running', '/etc/resolv.conf', { 'kube-system/coredns-5d4f8c7b9-aaaaa/coredns': LOOP }), 'triton')).toHaveLength(0);
    expect(runCheck(corednsLoop, coreDns('running', '127.0.0.1:5353'), 'triton')).toHaveLength(0);
  });

  it('notes the kubelet already points at the systemd-resolved upstream file', () => {
    const [f] = runCheck(corednsLoop, coreDns('crashloop', '/etc/resolv.conf', loopLogs, [kubeletConfig('/run/systemd/resolve/resolv.conf')]), 'triton');
    expect(f!.advice![0]).toContain('already sets resolvConf');
  });

  describeShared('on the shared scenarios', () => {
    it.each(scenarioNames())('scenario %s: no loop', (name) => {
      expect(runCheck(corednsLoop, scenario(name), 'triton', new Date())).toHaveLength(0);
    });
  });
});
