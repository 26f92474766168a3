import { kubeProxyCrashing } from '../../../src/checks/kube-proxy-crashing';
import { viewOf } from '../../support/view';
import { CONFIG_LOG, kubeProxyYaml } from './kube-proxy-fixtures';
import { loud, runOn } from './scenario-view';
import { describeShared } from '../../support/scenarios';

const run = (yaml: string, logs: Record<string, string> = {}) => kubeProxyCrashing.run({ view: viewOf(yaml, logs), namespace: undefined, now: new Date() });
const IPVS = 'I0301 1 server.go] starting\nE0301 07:22:40.1       1 run.go:74] "command failed" err="can\'t use the IPVS proxier: error getting ipset version"\n';

describe('kube-proxy-crashing', () => {
  it('reports a crash no config check explains, with the previous log error', () => {
    const [f, ...rest] = run(kubeProxyYaml({ crashing: true }), { 'kube-system/kube-proxy-abcde/kube-proxy#previous': IPVS });
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, plan: null, subject: { kind: 'DaemonSet', name: 'kube-proxy' } });
    expect(f!.title).toBe("kube-proxy is crashing: can't use the IPVS proxier: error getting ipset version");
    expect(f!.evidence).toContainEqual(expect.objectContaining({ type: 'log', command: 'kubectl logs -n kube-system kube-proxy-abcde -c kube-proxy --previous' }));
    expect(f!.advice!.join(' ')).toContain('ip_vs');
  });

  it('reports kube-proxy caught running between two crashes (it has no readiness probe, so it is Ready at once)', () => {
    const restarted = (restarts: number, started: string) =>
      kubeProxyYaml()
        .replace('restartCount: 0', `restartCount: ${restarts}\n    lastState: {terminated: {exitCode: 1, reason: Error, startedAt: '${started}', finishedAt: '2026-03-01T07:22:41Z'}}`)
        .replace("startedAt: '2026-03-01T06:29:00Z'", "startedAt: '2026-03-01T07:22:41Z'");
    const between = restarted(5, '2026-03-01T07:22:31Z');
    const logs = { 'kube-system/kube-proxy-abcde/kube-proxy#previous': IPVS };
    const at = (yaml: string, now: string) => kubeProxyCrashing.run({ view: viewOf(yaml, logs), namespace: undefined, now: new Date(now) });
    const [f, ...rest] = at(between, '2026-03-01T07:23:00Z');
    expect(rest).toEqual([]);
    expect(f!.title).toBe("kube-proxy is crashing: can't use the IPVS proxier: error getting ipset version");
    // Not a loop: one restart; the last error exit an hour before the read; two instant failures while
    // the node booted (ConfigMap not mounted yet), then 19 s of running: longer than the crashed ones lived.
    expect(at(restarted(1, '2026-03-01T07:22:31Z'), '2026-03-01T07:23:00Z')).toEqual([]);
    expect(at(between, '2026-03-01T08:23:00Z')).toEqual([]);
    expect(at(restarted(2, '2026-03-01T07:22:41Z'), '2026-03-01T07:23:00Z')).toEqual([]);
  });

  it('says how to read the log when none was captured', () => {
    const [f] = run(kubeProxyYaml({ crashing: true }));
    expect(f!.advice!.join('\n')).toContain('kubectl logs -n kube-system kube-proxy-abcde -c kube-proxy --previous');
  });

  it('does not double-report what kube-proxy-config-path explains', () => {
    const yaml = kubeProxyYaml({ crashing: true, command: ['kube-proxy', '--config=/var/lib/kube-proxy/configuration.conf'] });
    expect(run(yaml, { 'kube-system/kube-proxy-abcde/kube-proxy#previous': CONFIG_LOG })).toEqual([]);
  });

  it('is silent for running kube-proxy', () => {
    expect(run(kubeProxyYaml())).toEqual([]);
  });

  describeShared('on the shared scenarios', () => {
    it('leaves the kube-proxy lab to kube-proxy-config-path', () => {
      expect(runOn(kubeProxyCrashing, 'triton-kube-proxy-config')).toEqual([]);
    });

    it('is silent on the healthy and CNI scenarios', () => {
      expect(loud(runOn(kubeProxyCrashing, 'healthy'))).toEqual([]);
      expect(loud(runOn(kubeProxyCrashing, 'triton-cni-missing'))).toEqual([]);
    });
  });
});
