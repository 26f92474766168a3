import { kubeProxyConfigValues } from '../../../src/checks/kube-proxy-config-values';
import { kubeProxyCrashing } from '../../../src/checks/kube-proxy-crashing';
import { viewOf } from '../../support/view';
import { KUBECONFIG, kubeProxyYaml, kubeadmConfigYaml } from './kube-proxy-fixtures';
import { loud, runOn, scenarioNames } from './scenario-view';

const config = (lines: string): string =>
  `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclientConnection:\n  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf\n${lines}\n`;
const KUBEADM_CONFIG = kubeadmConfigYaml();
const cluster = (lines: string, crashing = true, extra = ''): string =>
  kubeProxyYaml({ keys: { 'config.conf': config(lines), 'kubeconfig.conf': KUBECONFIG }, crashing }) + extra;
const previous = (line: string) => ({ 'kube-system/kube-proxy-abcde/kube-proxy#previous': `I0301 07:22:40.100000       1 flags.go:64] FLAG: --config="/var/lib/kube-proxy/config.conf"\n${line}\n` });
const run = (yaml: string, logs: Record<string, string> = {}) => kubeProxyConfigValues.run({ view: viewOf(yaml, logs), namespace: 'triton', now: new Date() });
const cmPatch = (f: ReturnType<typeof run>[number]) => f.plan!.operations[0]!.patch as { op: string; path: string; value: string }[];

/*
 * Real kube-proxy log lines. The "failed validate: …" wrapper is cmd/kube-proxy/app/server.go (NewProxyCommand: `fmt.Errorf("failed validate: %w", err)`),
 * the field errors are pkg/proxy/apis/config/validation/validation.go (k8s.io/kubernetes v1.36.3), printed by
 * component-base/cli/run.go as "command failed" with klog's quoting of err.
 */
const MODE_LOG =
  'E0301 07:22:41.245816       1 run.go:72] "command failed" err="failed validate: KubeProxyConfiguration.Mode.ProxyMode: Invalid value: \\"iptable\\": must be iptables, ipvs, nftables or blank (blank means the best-available proxy [currently iptables])"';
// v1.36.3: server_linux.go returns `fmt.Errorf("can't use the IPVS proxier: %v", err)` after pkg/proxy/ipvs/supported.go
// logs "Could not create dummy VS" with the scheduler; the kernel answers ENOENT for a scheduler module it does not have.
const SCHEDULER_LOG =
  'E0301 07:22:41.245816       1 supported.go:87] "Could not create dummy VS" err="no such file or directory" scheduler="round-robin"\nE0301 07:22:41.245901       1 server.go:136] "Error running ProxyServer" err="can\'t use the IPVS proxier: no such file or directory"';
// Up to v1.26 validateIPVSSchedulerMethod rejected the name itself (removed by kubernetes/kubernetes#114878).
const SCHEDULER_LOG_126 =
  'E0301 07:22:41.245816       1 run.go:74] "command failed" err="failed validate: KubeProxyConfiguration.KubeProxyIPVSConfiguration.Scheduler: Invalid value: \\"roundrobin\\": must be in [rr wrr lc wlc lblc lblcr sh dh sed nq ], blank means the default algorithm method (currently rr)"';
const CIDR_LOG =
  'E0301 07:22:41.245816       1 run.go:72] "command failed" err="failed validate: KubeProxyConfiguration.DetectLocalConfiguration.ClusterCIDRs[0]: Invalid value: \\"10.244.0.0\\": must be a valid CIDR block (e.g. 10.100.0.0/16 or fde4:8dba:82e1::/48)"';

describe('kube-proxy-config-values', () => {
  it('flags a misspelt mode, quotes the validation error, and plans the one mode it can mean', () => {
    const [f, ...rest] = run(cluster('clusterCIDR: 10.244.0.0/16\nmode: iptable'), previous(MODE_LOG));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'KP-CONFIG-MODE', severity: 'critical', rootCause: true, subject: { kind: 'DaemonSet', name: 'kube-proxy' } });
    expect(f!.summary).toContain('mode: "iptable"');
    expect(f!.summary).toContain('its log names the value');
    expect(f!.evidence.find((e) => e.type === 'log')?.text).toBe(MODE_LOG);
    const ops = cmPatch(f!);
    expect(ops.map((o) => `${o.op} ${o.path}`)).toEqual(['test /data/config.conf', 'replace /data/config.conf']);
    expect(ops[1]!.value).toBe(config('clusterCIDR: 10.244.0.0/16\nmode: iptables'));
    expect(f!.plan!.operations[1]).toMatchObject({ action: 'patch', target: { kind: 'DaemonSet', name: 'kube-proxy' }, patchType: 'merge' });
    expect(f!.plan!.verify).toMatchObject({ check: 'kube-proxy-config-values', waitFor: 'rollout' });
  });

  it('names a mode with no single meaning (userspace, removed in 1.26) without a plan', () => {
    const [f] = run(cluster('mode: userspace'));
    expect(f).toMatchObject({ code: 'KP-CONFIG-MODE', plan: null });
    expect(f!.summary).toContain('removed in Kubernetes 1.26');
    expect(run(cluster('mode: ip'))[0]!.plan).toBeNull();
  });

  it('flags an IPVS scheduler the kernel lacks, from the 1.27+ and the 1.26 log, and maps an algorithm name to its scheduler', () => {
    const [f] = run(cluster('mode: ipvs\nipvs:\n  scheduler: round-robin'), previous(SCHEDULER_LOG));
    expect(f).toMatchObject({ code: 'KP-IPVS-SCHEDULER', severity: 'critical' });
    expect(f!.evidence.find((e) => e.type === 'log')?.text).toContain('Could not create dummy VS');
    expect(cmPatch(f!)[1]!.value).toContain('ipvs:\n  scheduler: rr');
    const [g] = run(cluster('mode: ipvs\nipvs:\n  scheduler: roundrobin'), previous(SCHEDULER_LOG_126));
    expect(g!.summary).toContain('its log names the value');
    const [h] = run(cluster('mode: ipvs\nipvs:\n  scheduler: fastest'));
    expect(h!.plan).toBeNull();
  });

  it("flags a clusterCIDR that is not a CIDR and plans kubeadm's podSubnet; no plan without kubeadm-config", () => {
    const [f] = run(cluster('clusterCIDR: 10.244.0.0\nmode: ""', true, KUBEADM_CONFIG), previous(CIDR_LOG));
    expect(f).toMatchObject({ code: 'KP-CLUSTER-CIDR', severity: 'critical' });
    expect(f!.evidence.find((e) => e.type === 'log')?.text).toBe(CIDR_LOG);
    expect(cmPatch(f!)[1]!.value).toContain('clusterCIDR: 10.244.0.0/16\n');
    expect(run(cluster('clusterCIDR: 10.244.0.0\nmode: ""'))[0]!.plan).toBeNull();
  });

  it('warns about a valid clusterCIDR outside the pod network (KP-03), planning kubeadm\'s podSubnet; nodes\' podCIDRs alone name it without a plan', () => {
    const [f, ...rest] = run(cluster('clusterCIDR: 10.32.0.0/12\nmode: ""', false, KUBEADM_CONFIG));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'KP-CLUSTER-CIDR', severity: 'warning', rootCause: true, subject: { kind: 'DaemonSet', name: 'kube-proxy' } });
    expect(f!.title).toBe('kube-proxy clusterCIDR 10.32.0.0/12 does not cover the pod network 10.244.0.0/16');
    expect(cmPatch(f!)[1]!.value).toContain('clusterCIDR: 10.244.0.0/16\n');
    const node = '---\napiVersion: v1\nkind: Node\nmetadata: {name: node01}\nspec: {podCIDR: 10.244.1.0/24, podCIDRs: [10.244.1.0/24]}\n';
    const [g] = run(cluster('clusterCIDR: 10.32.0.0/12\nmode: ""', false, node));
    expect(g).toMatchObject({ code: 'KP-CLUSTER-CIDR', plan: null });
    expect(g!.summary).toContain('10.244.1.0/24');
    // Thousands of nodes must not make a title of thousands of CIDRs: three are named, the rest counted.
    const nodes = Array.from({ length: 6 }, (_, i) => `---\napiVersion: v1\nkind: Node\nmetadata: {name: node0${i}}\nspec: {podCIDR: 10.244.${i}.0/24}\n`).join('');
    const [many] = run(cluster('clusterCIDR: 10.32.0.0/12\nmode: ""', false, nodes));
    expect(many!.title).toBe('kube-proxy clusterCIDR 10.32.0.0/12 does not cover the pod network 10.244.0.0/24, 10.244.1.0/24, 10.244.2.0/24 and 3 more node podCIDRs');
    expect(many!.evidence.filter((e) => e.text.startsWith('node/'))).toHaveLength(3);
    // Covering the pod network, or wider than it, is fine.
    expect(run(cluster('clusterCIDR: 10.244.0.0/16\nmode: ""', false, KUBEADM_CONFIG + node))).toEqual([]);
    expect(run(cluster('clusterCIDR: 10.0.0.0/8\nmode: ""', false, KUBEADM_CONFIG + node))).toEqual([]);
  });

  it('warns (not critical) when the pods still run on the old config', () => {
    const [f] = run(cluster('mode: IPVS', false));
    expect(f).toMatchObject({ severity: 'warning', code: 'KP-CONFIG-MODE' });
    expect(cmPatch(f!)[1]!.value).toContain('mode: ipvs');
  });

  it('reads the flags when kube-proxy runs without --config, and patches the DaemonSet command line', () => {
    const command = ['/usr/local/bin/kube-proxy', '--proxy-mode=iptable', '--cluster-cidr', '10.244.0.0/16', '--hostname-override=$(NODE_NAME)'];
    const [f] = run(kubeProxyYaml({ command, crashing: true }), previous(MODE_LOG));
    expect(f).toMatchObject({ code: 'KP-CONFIG-MODE', severity: 'critical', title: 'kube-proxy flags: invalid --proxy-mode' });
    expect(f!.summary).toContain('DaemonSet kube-system/kube-proxy starts kube-proxy with --proxy-mode="iptable"');
    expect(f!.plan!.operations).toEqual([
      {
        action: 'patch',
        target: { apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy' },
        patchType: 'json',
        patch: [
          { op: 'test', path: '/spec/template/spec/containers/0/name', value: 'kube-proxy' },
          { op: 'test', path: '/spec/template/spec/containers/0/command/1', value: '--proxy-mode=iptable' },
          { op: 'replace', path: '/spec/template/spec/containers/0/command/1', value: '--proxy-mode=iptables' },
        ],
        resourceVersion: '2001',
      },
    ]);
    // A value in its own word: `--cluster-cidr 10.244.0.0` becomes `--cluster-cidr 10.244.0.0/16` (kubeadm-config podSubnet).
    const [g] = run(kubeProxyYaml({ command: ['kube-proxy', '--cluster-cidr', '10.244.0.0'], crashing: true }) + KUBEADM_CONFIG);
    expect((g!.plan!.operations[0]!.patch as { op: string; value?: string }[]).slice(1)).toEqual([
      { op: 'test', path: '/spec/template/spec/containers/0/command/2', value: '10.244.0.0' },
      { op: 'replace', path: '/spec/template/spec/containers/0/command/2', value: '10.244.0.0/16' },
    ]);
  });

  it('ignores flags when --config is given (kube-proxy replaces them with the file), and a valid flag set', () => {
    expect(run(kubeProxyYaml({ command: ['kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--proxy-mode=iptable'] }))).toEqual([]);
    expect(run(kubeProxyYaml({ command: ['kube-proxy', '--proxy-mode=ipvs', '--ipvs-scheduler=wrr', '--cluster-cidr=10.244.0.0/16'] }))).toEqual([]);
  });

  it('keeps kube-proxy-crashing quiet when it explains the crash', () => {
    expect(kubeProxyCrashing.run({ view: viewOf(cluster('mode: iptable'), previous(MODE_LOG)), namespace: 'triton', now: new Date() })).toEqual([]);
  });

  it('stays silent for valid look-alikes: blank and nftables modes, any scheduler outside IPVS mode, dual-stack CIDRs, a CIDR under NodeCIDR detection', () => {
    expect(run(cluster('mode: ""\nclusterCIDR: 10.244.0.0/16'))).toEqual([]);
    expect(run(cluster('mode: nftables'))).toEqual([]);
    expect(run(cluster('mode: iptables\nipvs:\n  scheduler: round-robin'))).toEqual([]);
    expect(run(cluster('mode: ipvs\nipvs:\n  scheduler: mh'))).toEqual([]);
    expect(run(cluster('clusterCIDR: 10.244.0.0/16,fd00:10:244::/56'))).toEqual([]);
    expect(run(cluster('detectLocalMode: NodeCIDR\nclusterCIDR: ""'))).toEqual([]);
  });

  it.each(scenarioNames())('scenario %s: silent', (name) => {
    expect(loud(runOn(kubeProxyConfigValues, name))).toEqual([]);
  });
});
