import { corednsUpstream } from '../../../src/checks/coredns-upstream';
import { cluster, deployment, pod, rsOf, runCheck, textOf } from './network-fixtures';

/* plugin/errors/errors.go: `[ERROR] plugin/errors: <rcode> <name> <type>: <err>`, Go's network error as the cause (network-faults.md DNS-09). */
const timeout = (name: string, type = 'A', port = 41234) => `[ERROR] plugin/errors: 2 ${name} ${type}: read udp 10.244.0.3:${port}->8.8.8.8:53: i/o timeout`;
const labels = { 'k8s-app': 'kube-dns' };
const COREFILE = '.:53 {\n    errors\n    kubernetes cluster.local in-addr.arpa ip6.arpa\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n    loop\n}\n';

function coreDns(shape: 'running' | 'notready', log: string[]) {
  return cluster(
    [
      ...deployment('kube-system', 'coredns', labels),
      pod('kube-system', 'coredns-5d4f8c7b9-aaaaa', { owner: rsOf('coredns'), labels, shape, containers: ['coredns'] }),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: COREFILE } },
    ],
    { 'kube-system/coredns-5d4f8c7b9-aaaaa/coredns': `${log.join('\n')}\n` },
  );
}

describe('coredns-upstream', () => {
  it('names the upstream a Ready CoreDNS keeps timing out on, and where it comes from', () => {
    const [f, ...rest] = runCheck(corednsUpstream, coreDns('running', [timeout('example.com.'), timeout('api.github.com.', 'AAAA', 41235), timeout('example.com.', 'A', 41236)]), 'triton');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'DNS-UPSTREAM-UNREACHABLE', severity: 'warning', rootCause: true, subject: { kind: 'ConfigMap', namespace: 'kube-system', name: 'coredns' } });
    expect(f!.title).toContain('8.8.8.8:53');
    expect(textOf(f!)).toContain('forward . /etc/resolv.conf');
    expect(f!.summary).toContain('i/o timeout');
  });

  it('is quiet on a stray timeout, on the loop plugin\'s HINFO probe, and for an unready CoreDNS (other checks own that)', () => {
    expect(runCheck(corednsUpstream, coreDns('running', [timeout('example.com.'), '[INFO] 10.244.0.5:51234 - 3 "A IN mysql.triton.svc.cluster.local. udp 48 false 512" NOERROR'] ), 'triton')).toEqual([]);
    expect(runCheck(corednsUpstream, coreDns('running', [1, 2, 3].map((i) => timeout(`${i}234567.${i}890123.`, 'HINFO', 40000 + i))), 'triton')).toEqual([]);
    expect(runCheck(corednsUpstream, coreDns('notready', [timeout('a.com.'), timeout('b.com.'), timeout('c.com.')]), 'triton')).toEqual([]);
  });
});
