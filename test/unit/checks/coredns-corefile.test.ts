import { corednsCorefile } from '../../../src/checks/coredns-corefile';
import { cluster, deployment, node, pod, rsOf, runCheck, scenario, scenarioNames, textOf } from './network-fixtures';

/*
 * The real lines:
 * - `%s:%d - Error during parsing: %s`: github.com/coredns/caddy caddyfile/dispenser.go (Dispenser.Err), file name = the
 *   -conf path (/etc/coredns/Corefile in kubeadm); `Unknown directive '%s'`: caddyfile/parse.go (directive()).
 * - `unknown property '%s'`: coredns plugin/kubernetes/setup.go (ParseStanza), wrapped `plugin/kubernetes: …` by
 *   plugin.Error (coredns plugin/plugin.go).
 * - `not an IP address or file: %q`: coredns plugin/pkg/parse/host.go (HostPortOrFile, v1.9.3 to v1.11.x), returned
 *   unwrapped by plugin/forward/setup.go and prefixed `plugin/forward: ` by plugin.Error; current releases say
 *   `not an IP address, file, or valid domain: %q` (plugin/forward/resolve.go, classifyToAddrs).
 * - `interval value must be greater or equal to %v`: coredns plugin/reload/setup.go (minInterval 2s), via plugin.Error.
 * coremain/run.go prints the error with log.Fatal and LogFlags 0: the line is the message alone.
 */
const UNKNOWN_PROXY = "/etc/coredns/Corefile:11 - Error during parsing: Unknown directive 'proxy'";
const UPSTREAM = "plugin/kubernetes: /etc/coredns/Corefile:9 - Error during parsing: unknown property 'upstream'";
const FORWARD_OLD = 'plugin/forward: not an IP address or file: "/etc/resolv.con"';
const FORWARD_NEW = 'plugin/forward: not an IP address, file, or valid domain: "8.8.8.8.8"';

const labels = { 'k8s-app': 'kube-dns' };

/** The Corefile of a cluster upgraded from kubeadm 1.10 (the seed note's own Corefile has `proxy . /etc/resolv.conf`). */
const OLD_COREFILE =
  '.:53 {\n    errors\n    health\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       upstream\n       fallthrough in-addr.arpa ip6.arpa\n    }\n    prometheus :9153\n    # upstream resolvers of the node\n    proxy . /etc/resolv.conf\n    cache 30\n    loop\n    reload\n    loadbalance\n}\n';

const corefileWith = (line: string): string => OLD_COREFILE.replace('    proxy . /etc/resolv.conf\n', `    ${line}\n`);
const UPSTREAM_COREFILE = '.:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       upstream\n       fallthrough in-addr.arpa ip6.arpa\n    }\n    forward . /etc/resolv.conf\n    cache 30\n}\n';

function coreDns(corefile: string, o: { image?: string; shape?: 'crashloop' | 'running'; logs?: Record<string, string> } = {}) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the fixture edits deep paths of a hand-built object
  const [deploy, rs] = deployment('kube-system', 'coredns', labels) as [Record<string, any>, Record<string, unknown>];
  deploy.spec.template.spec.containers[0].image = o.image ?? 'registry.k8s.io/coredns/coredns:v1.9.3';
  const shape = o.shape ?? 'crashloop';
  return cluster(
    [
      node('node1'),
      deploy,
      rs,
      pod('kube-system', 'coredns-5d4f8c7b9-aaaaa', { owner: rsOf('coredns'), labels, shape, containers: ['coredns'] }),
      pod('kube-system', 'coredns-5d4f8c7b9-bbbbb', { owner: rsOf('coredns'), labels, shape, containers: ['coredns'] }),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system', resourceVersion: '77' }, data: { Corefile: corefile } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { selector: labels } },
    ],
    o.logs ?? {},
  );
}

const logsOf = (line: string): Record<string, string> => ({
  'kube-system/coredns-5d4f8c7b9-aaaaa/coredns#previous': `${line}\n`,
  'kube-system/coredns-5d4f8c7b9-bbbbb/coredns#previous': `${line}\n`,
});

describe('coredns-corefile', () => {
  it("Unknown directive 'proxy': the cause is ConfigMap coredns at that line, quoted; plan swaps proxy for forward (and drops upstream, gone since 1.7) and keeps the rest byte for byte", () => {
    const findings = runCheck(corednsCorefile, coreDns(OLD_COREFILE, { logs: logsOf(UNKNOWN_PROXY) }), 'triton');
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({ code: 'DNS-COREFILE-PROXY', severity: 'critical', rootCause: true, subject: { kind: 'ConfigMap', namespace: 'kube-system', name: 'coredns' } });
    expect(f.summary).toContain(`CoreDNS exits with \`${UNKNOWN_PROXY}\``);
    expect(f.summary).toContain('line 11 (`proxy . /etc/resolv.conf`)');
    expect(f.summary).toContain('removed in CoreDNS 1.5.0');
    expect(f.evidence).toContainEqual({ type: 'log', text: UNKNOWN_PROXY, command: 'kubectl logs -n kube-system coredns-5d4f8c7b9-aaaaa -c coredns --previous' });
    expect(textOf(f)).toContain('corefile line 11: `proxy . /etc/resolv.conf`');
    const [test, replace] = f.plan!.operations[0]!.patch as { op: string; path: string; value: string }[];
    expect(test).toEqual({ op: 'test', path: '/data/Corefile', value: OLD_COREFILE });
    expect(replace!.op).toBe('replace');
    // CoreDNS 1.9.3 would next refuse `upstream` (removed in 1.7.0): the same plan drops that line; nothing else changes.
    expect(replace!.value).toBe(corefileWith('forward . /etc/resolv.conf').replace('       upstream\n', ''));
    expect(f.plan!.summary).toBe('In the Corefile, replace the removed `proxy` directive with `forward` and delete the 1 kubernetes option line removed in CoreDNS 1.7.0 (upstream / resyncperiod) (everything else unchanged)');
    expect(f.plan!.operations[0]).toMatchObject({ target: { apiVersion: 'v1', kind: 'ConfigMap', name: 'coredns' }, resourceVersion: '77' });
    expect(f.advice!.join('\n')).toContain('rollout restart deployment coredns');
    expect(f.explains!.map((r) => `${r.kind}/${r.name}`)).toEqual(expect.arrayContaining(['ConfigMap/coredns', 'Deployment/coredns', 'Service/kube-dns']));
  });

  it('keeps upstream on an image older than 1.7 (it still exists there)', () => {
    const [f] = runCheck(corednsCorefile, coreDns(OLD_COREFILE, { image: 'k8s.gcr.io/coredns:1.6.7', logs: logsOf(UNKNOWN_PROXY) }), 'triton');
    expect((f!.plan!.operations[0]!.patch as { value: string }[])[1]!.value).toBe(corefileWith('forward . /etc/resolv.conf'));
  });

  it('replaces every plain proxy directive (several server blocks, proxy with an empty block)', () => {
    const corefile = 'example.org:53 {\n  proxy . 10.0.0.53 { }\n}\n.:53 {\n\tproxy . /etc/resolv.conf\n\tcache 30\n}\n';
    const [f] = runCheck(corednsCorefile, coreDns(corefile, { logs: logsOf("/etc/coredns/Corefile:2 - Error during parsing: Unknown directive 'proxy'") }), 'triton');
    expect((f!.plan!.operations[0]!.patch as { value: string }[])[1]!.value).toBe('example.org:53 {\n  forward . 10.0.0.53 { }\n}\n.:53 {\n\tforward . /etc/resolv.conf\n\tcache 30\n}\n');
  });

  it('a proxy block with options gets advice, not a plan (forward has no fail_timeout / protocol)', () => {
    const corefile = corefileWith('proxy . /etc/resolv.conf {\n        fail_timeout 10s\n    }');
    const [f] = runCheck(corednsCorefile, coreDns(corefile, { logs: logsOf(UNKNOWN_PROXY) }), 'triton');
    expect(f!.code).toBe('DNS-COREFILE-PROXY');
    expect(f!.plan).toBeUndefined();
    expect(f!.advice![0]).toContain('rewrite it as `forward . <targets>` by hand');
  });

  it("without logs: a Corefile with proxy under CoreDNS 1.9.3 that crash-loops is found from the objects", () => {
    const [f] = runCheck(corednsCorefile, coreDns(OLD_COREFILE), 'triton');
    expect(f!.summary).toContain('The Corefile uses `proxy` and CoreDNS (registry.k8s.io/coredns/coredns:v1.9.3) crash-loops');
    expect(f!.summary).toContain('line 11');
    expect(f!.plan).toBeDefined();
  });

  it('look-alike: proxy under CoreDNS 1.2.6 that runs (proxy still exists there) stays quiet', () => {
    expect(runCheck(corednsCorefile, coreDns(OLD_COREFILE, { image: 'k8s.gcr.io/coredns:1.2.6', shape: 'running' }), 'triton')).toHaveLength(0);
    expect(runCheck(corednsCorefile, coreDns(OLD_COREFILE, { image: 'k8s.gcr.io/coredns:1.2.6' }), 'triton')).toHaveLength(0);
  });

  it("unknown property 'upstream' (kubernetes plugin): quotes the line; plan deletes just that line", () => {
    const [f] = runCheck(corednsCorefile, coreDns(UPSTREAM_COREFILE, { logs: logsOf(UPSTREAM) }), 'triton');
    expect(f).toMatchObject({ code: 'DNS-COREFILE-PARSE', subject: { kind: 'ConfigMap', name: 'coredns' } });
    expect(f!.summary).toContain(`CoreDNS exits with \`${UPSTREAM}\``);
    expect(f!.summary).toContain('line 9 (`upstream`)');
    expect(f!.summary).toContain('removed in CoreDNS 1.7.0');
    expect(f!.plan!.operations[0]!.patch).toEqual([
      { op: 'test', path: '/data/Corefile', value: UPSTREAM_COREFILE },
      { op: 'replace', path: '/data/Corefile', value: UPSTREAM_COREFILE.replace('       upstream\n', '') },
    ]);
  });

  it('an `upstream` outside a kubernetes block is not touched', () => {
    const corefile = UPSTREAM_COREFILE.replace('    cache 30\n', '    template IN A example.org {\n      upstream\n    }\n    cache 30\n');
    const [f] = runCheck(corednsCorefile, coreDns(corefile, { logs: logsOf(UPSTREAM) }), 'triton');
    expect((f!.plan!.operations[0]!.patch as { value: string }[])[1]!.value).toBe(corefile.replace('       upstream\n', ''));
  });

  it.each([
    [FORWARD_OLD, 'forward . /etc/resolv.con'],
    [FORWARD_NEW, 'forward . 8.8.8.8.8'],
  ])('%s: finds the forward line that names the bad target', (line, directive) => {
    const corefile = corefileWith(directive);
    const [f] = runCheck(corednsCorefile, coreDns(corefile, { logs: logsOf(line) }), 'triton');
    expect(f).toMatchObject({ code: 'DNS-COREFILE-PARSE', rootCause: true });
    expect(f!.summary).toContain(`CoreDNS exits with \`${line}\``);
    expect(f!.summary).toContain(`line 11 (\`${directive}\`)`);
    expect(f!.summary).toContain('must be an IP address');
    expect(f!.plan).toBeUndefined();
  });

  it('another plugin\'s setup error (no line number): the directive of that plugin is quoted', () => {
    const corefile = UPSTREAM_COREFILE.replace('       upstream\n', '').replace('    cache 30\n', '    cache 30\n    reload 1s\n');
    const line = 'plugin/reload: interval value must be greater or equal to 2s';
    const [f] = runCheck(corednsCorefile, coreDns(corefile, { logs: logsOf(line) }), 'triton');
    expect(f).toMatchObject({ code: 'DNS-COREFILE-PARSE', subject: { kind: 'ConfigMap', name: 'coredns' } });
    expect(f!.summary).toContain(`CoreDNS exits with \`${line}\``);
    expect(f!.summary).toContain('line 13 (`reload 1s`)');
    expect(f!.plan).toBeUndefined();
  });

  it('look-alike: run-time errors with a level (`[ERROR] plugin/errors: …`) in a crashing CoreDNS are not Corefile faults', () => {
    const logs = logsOf('[ERROR] plugin/errors: 2 example.org. A: read udp 10.32.0.3:40212->8.8.8.8:53: i/o timeout');
    expect(runCheck(corednsCorefile, coreDns(UPSTREAM_COREFILE.replace('       upstream\n', ''), { logs }), 'triton')).toHaveLength(0);
  });

  it('look-alike: CoreDNS crashing on a loop, or a healthy CoreDNS with a valid Corefile, gets nothing', () => {
    const loop = logsOf('[FATAL] plugin/loop: Loop (127.0.0.1:34614 -> :53) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO 1.2."');
    expect(runCheck(corednsCorefile, coreDns(UPSTREAM_COREFILE.replace('       upstream\n', ''), { logs: loop }), 'triton')).toHaveLength(0);
    expect(runCheck(corednsCorefile, coreDns(UPSTREAM_COREFILE.replace('       upstream\n', ''), { shape: 'running' }), 'triton')).toHaveLength(0);
  });

  it('once the ConfigMap is corrected, the crashed instances\' parse errors are history: no finding', () => {
    expect(runCheck(corednsCorefile, coreDns(corefileWith('forward . /etc/resolv.conf'), { logs: logsOf(UNKNOWN_PROXY) }), 'triton')).toHaveLength(0);
    expect(runCheck(corednsCorefile, coreDns(corefileWith('forward . /etc/resolv.conf'), { logs: logsOf(FORWARD_OLD) }), 'triton')).toHaveLength(0);
    expect(runCheck(corednsCorefile, coreDns(UPSTREAM_COREFILE.replace('       upstream\n', ''), { logs: logsOf(UPSTREAM) }), 'triton')).toHaveLength(0);
  });

  it('an edit the reload plugin refused: latent (CoreDNS still serves the old Corefile), named before a restart takes DNS down', () => {
    const edited = UPSTREAM_COREFILE.replace('       upstream\n', '').replace('    forward .', '    foward .');
    const error = "/etc/coredns/Corefile:11 - Error during parsing: Unknown directive 'foward'";
    const log = `[ERROR] Restart failed: ${error}\n[ERROR] plugin/reload: Corefile changed but reload failed: starting with listener file descriptors: ${error}\n`;
    const logs = { 'kube-system/coredns-5d4f8c7b9-aaaaa/coredns': log, 'kube-system/coredns-5d4f8c7b9-bbbbb/coredns': log };
    const [f, ...rest] = runCheck(corednsCorefile, coreDns(edited, { shape: 'running', logs }), 'triton');
    expect(rest).toHaveLength(0);
    expect(f).toMatchObject({ code: 'DNS-COREFILE-PARSE', severity: 'warning', rootCause: true, title: 'CoreDNS refused the edited Corefile at line 11 and still serves the previous one' });
    expect(f!.summary).toContain(`CoreDNS logs \`${error}\``);
    expect(f!.summary).toContain('DNS works for now, but every CoreDNS pod that starts');
    expect(f!.advice!.join('\n')).toContain('Do not restart CoreDNS before the Corefile is corrected');
    expect(f!.advice!.join('\n')).not.toContain('rollout restart');
    // Corrected since: the reload error is history.
    expect(runCheck(corednsCorefile, coreDns(edited.replace('foward', 'forward'), { shape: 'running', logs }), 'triton')).toHaveLength(0);
  });

  it('look-alike: an old parse error in the log of a Ready CoreDNS (reload kept the good config) stays quiet', () => {
    const logs = { 'kube-system/coredns-5d4f8c7b9-aaaaa/coredns': `${UNKNOWN_PROXY}\n` };
    expect(runCheck(corednsCorefile, coreDns(UPSTREAM_COREFILE, { shape: 'running', logs }), 'triton')).toHaveLength(0);
  });

  it.each(scenarioNames())('scenario %s: the Corefile parses', (name) => {
    expect(runCheck(corednsCorefile, scenario(name), 'triton', new Date())).toHaveLength(0);
  });
});
