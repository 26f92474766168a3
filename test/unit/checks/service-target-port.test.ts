import { serviceTargetPort } from '../../../src/checks/service-target-port';
import { viewOf } from '../../support/view';
import { loud, runOn, scenarioNames } from './scenario-view';
import { TWO_TIER, deployment, pod, service } from './service-fixtures';
import { describeShared } from '../../support/scenarios';

const run = (yaml: string) => serviceTargetPort.run({ view: viewOf(yaml), namespace: 'triton', now: new Date() });
const MYSQL = pod('mysql', { labels: { name: 'mysql' }, ports: [{ containerPort: 3306 }] });

describe('service-target-port', () => {
  it('lab beta: numeric targetPort 8080 while the pod serves 3306 → guarded targetPort patch', () => {
    const [f, ...rest] = run(MYSQL + service('mysql-service', { selector: { name: 'mysql' }, ports: [{ port: 3306, targetPort: 8080, protocol: 'TCP' }] }));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, subject: { kind: 'Service', name: 'mysql-service' } });
    expect(f!.summary).toContain('declare 3306/TCP');
    expect(f!.plan!.operations[0]).toEqual({
      action: 'patch',
      target: { apiVersion: 'v1', kind: 'Service', namespace: 'triton', name: 'mysql-service' },
      patchType: 'json',
      resourceVersion: '42',
      patch: [
        { op: 'test', path: '/spec/ports/0/targetPort', value: 8080 },
        { op: 'replace', path: '/spec/ports/0/targetPort', value: 3306 },
      ],
    });
    expect(f!.plan!.verify.waitFor).toBe('endpoints');
  });

  it('named targetPort not defined on the pods: critical; plans the single named port', () => {
    const yaml = deployment('web', { ports: [{ containerPort: 8080, name: 'web' }] }) + service('web', { ports: [{ port: 80, targetPort: 'http' }] });
    const [f] = run(yaml);
    expect(f!.severity).toBe('critical');
    expect(f!.title).toContain('Named targetPort "http"');
    expect(f!.plan!.operations[0]!.patch).toContainEqual({ op: 'replace', path: '/spec/ports/0/targetPort', value: 'web' });
  });

  it('advises (warning, no plan) when several other ports are declared', () => {
    const yaml = pod('app', { labels: { app: 'app' }, ports: [{ containerPort: 9000 }, { containerPort: 9090 }] }) + service('app', { ports: [{ port: 80, targetPort: 8080 }] });
    const [f] = run(yaml);
    expect(f).toMatchObject({ severity: 'warning', plan: null });
  });

  it('skips ports already targeted by the other Service ports', () => {
    const yaml =
      pod('app', { labels: { app: 'app' }, ports: [{ containerPort: 8080 }, { containerPort: 9090 }] }) +
      service('app', { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'metrics', port: 9100, targetPort: 9100 }] });
    const [f] = run(yaml);
    expect(f!.plan!.operations[0]!.patch).toContainEqual({ op: 'replace', path: '/spec/ports/1/targetPort', value: 9090 });
  });

  it('does not fire for look-alikes: resolving named ports, undeclared container ports, no selector, no pods', () => {
    expect(run(TWO_TIER)).toEqual([]);
    expect(run(deployment('web', { ports: [{ containerPort: 8080, name: 'http' }] }) + service('web', { ports: [{ port: 80, targetPort: 'http' }] }))).toEqual([]);
    expect(run(deployment('web', { ports: [] }) + service('web', { ports: [{ port: 80, targetPort: 8080 }] }))).toEqual([]);
    expect(run(deployment('web', { ports: [{ containerPort: 9000 }] }) + service('web', { selector: null }))).toEqual([]);
    expect(run(service('web', { ports: [{ port: 80, targetPort: 8080 }] }))).toEqual([]);
    expect(run(deployment('dns', { ports: [{ containerPort: 53, protocol: 'UDP' }, { containerPort: 53, protocol: 'TCP' }] }) + service('dns', { ports: [{ port: 53, targetPort: 53, protocol: 'UDP' }, { port: 53, targetPort: 53, protocol: 'TCP' }] }))).toEqual([]);
  });

  describeShared('on the shared scenarios', () => {
    it.each(scenarioNames())('scenario %s: silent', (name) => {
      expect(loud(runOn(serviceTargetPort, name))).toEqual([]);
      expect(loud(runOn(serviceTargetPort, name, 'cluster'))).toEqual([]);
    });
  });
});
