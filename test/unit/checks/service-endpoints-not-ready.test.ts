import { serviceEndpointsNotReady } from '../../../src/checks/service-endpoints-not-ready';
import { viewOf } from '../../support/view';
import { loud, runOn, scenarioNames } from './scenario-view';
import { TWO_TIER, event, pod, service, slice } from './service-fixtures';
import { describeShared } from '../../support/scenarios';

const run = (yaml: string) => serviceEndpointsNotReady.run({ view: viewOf(yaml), namespace: 'triton', now: new Date() });
const WEB = (o: Parameters<typeof pod>[1] = {}) => pod('web-1', { labels: { app: 'web' }, ports: [{ containerPort: 8080 }], readinessProbe: true, ip: '10.32.0.7', ...o });

describe('service-endpoints-not-ready', () => {
  it('symptom of the pods when they run but fail readiness, with the Unhealthy event as evidence', () => {
    const yaml =
      WEB({ ready: false }) +
      service('web') +
      slice('web', [{ ip: '10.32.0.7', pod: 'web-1', ready: false }]) +
      event('web-1', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503', { count: 40 });
    const [f, ...rest] = run(yaml);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'critical', rootCause: false, subject: { kind: 'Service', name: 'web' } });
    expect(f!.dependsOn).toEqual([{ apiVersion: 'v1', kind: 'Pod', namespace: 'triton', name: 'web-1' }]);
    expect(f!.evidence).toContainEqual({
      type: 'event',
      text: 'Warning Unhealthy (x40): Readiness probe failed: HTTP probe failed with statuscode: 503',
      command: 'kubectl get events -n triton --field-selector involvedObject.kind=Pod,involvedObject.name=web-1',
    });
    expect(f!.evidence.some((e) => e.text.includes('readinessProbe main: httpGet :8080/ready'))).toBe(true);
    expect(f!.evidence[0]!.command).toBe('kubectl get endpointslices -n triton -l kubernetes.io/service-name=web -o yaml');
    expect(f!.explains).toContainEqual(expect.objectContaining({ kind: 'Pod', name: 'web-1' }));
  });

  it('falls back to core Endpoints notReadyAddresses', () => {
    const endpoints = `---
apiVersion: v1
kind: Endpoints
metadata: {name: web, namespace: triton}
subsets: [{notReadyAddresses: [{ip: 10.32.0.7, targetRef: {kind: Pod, name: web-1, namespace: triton}}], ports: [{port: 8080}]}]
`;
    const [f] = run(WEB({ ready: false }) + service('web') + endpoints);
    expect(f!.evidence[0]!.text).toContain('from Endpoints');
  });

  it('symptom (rootCause false) when the pods are not running, naming the pods for the engine to link', () => {
    const [f] = run(WEB({ ready: false, phase: 'Pending', waiting: 'ContainerCreating' }) + service('web') + slice('web', []));
    expect(f).toMatchObject({ severity: 'critical', rootCause: false });
    expect(f!.title).toContain('ContainerCreating');
    expect(f!.explains).toContainEqual(expect.objectContaining({ kind: 'Pod', name: 'web-1' }));
  });

  it('does not fire with a ready endpoint, without selector, or when nothing is selected', () => {
    expect(run(TWO_TIER)).toEqual([]);
    expect(run(WEB() + WEB({ ready: false }).replace(/web-1/g, 'web-2') + service('web') + slice('web', [{ ip: '10.32.0.7', pod: 'web-1', ready: true }, { ip: '10.32.0.8', pod: 'web-2', ready: false }]))).toEqual([]);
    expect(run(service('web', { selector: null }))).toEqual([]);
    expect(run(service('web') + slice('web', []))).toEqual([]);
    // Pods ready but no endpoints: a port problem (service-target-port), not this.
    expect(run(WEB() + service('web', { ports: [{ port: 80, targetPort: 'http' }] }) + slice('web', []))).toEqual([]);
  });

  describeShared('on the shared scenarios', () => {
    it('healthy scenario: silent', () => {
      expect(runOn(serviceEndpointsNotReady, 'healthy')).toEqual([]);
    });

    it('triton-cni-missing: only symptoms that name the stuck pods', () => {
      const findings = runOn(serviceEndpointsNotReady, 'triton-cni-missing');
      expect(findings.length).toBeGreaterThan(0);
      for (const f of findings) {
        expect(f.rootCause).toBe(false);
        expect(f.explains!.some((r) => r.kind === 'Pod')).toBe(true);
      }
    });

    it.each(scenarioNames().filter((n) => n !== 'triton-cni-missing'))('scenario %s: no root cause', (name) => {
      expect(loud(runOn(serviceEndpointsNotReady, name)).filter((f) => f.rootCause)).toEqual([]);
    });
  });
});
