import { servicePortProtocol } from '../../../src/checks/service-port-protocol';
import { serviceTargetPort } from '../../../src/checks/service-target-port';
import { viewOf } from '../../support/view';
import { deployment, pod, service } from './service-fixtures';
import { describeShared } from '../../support/scenarios';
import { runOn, scenarioNames } from './scenario-view';

const ctx = (yaml: string) => ({ view: viewOf(yaml), namespace: 'triton', now: new Date() });
const run = (yaml: string) => servicePortProtocol.run(ctx(yaml));
const MYSQL_POD = pod('mysql', { labels: { name: 'mysql' }, ports: [{ containerPort: 3306, protocol: 'TCP' }] });

// No component logs this mismatch: kube-proxy silently programs rules for the Service's protocol only
// (kubernetes pkg/proxy/iptables/proxier.go writes `-p <protocol>` per service port), so the evidence is the two specs.
describe('service-port-protocol', () => {
  it('a UDP Service port in front of a TCP container port: protocol patch guarded by a test', () => {
    const [f, ...rest] = run(MYSQL_POD + service('mysql', { selector: { name: 'mysql' }, ports: [{ port: 3306, targetPort: 3306, protocol: 'UDP' }] }));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'SVC-PORT-PROTOCOL', severity: 'critical', rootCause: true, subject: { kind: 'Service', name: 'mysql' } });
    expect(f!.summary).toContain('declare as TCP');
    expect(f!.plan!.operations[0]).toMatchObject({
      action: 'patch',
      patchType: 'json',
      resourceVersion: '42',
      patch: [
        { op: 'test', path: '/spec/ports/0/protocol', value: 'UDP' },
        { op: 'replace', path: '/spec/ports/0/protocol', value: 'TCP' },
      ],
    });
  });

  it('a named targetPort declared under UDP (a syslog receiver) behind a TCP Service port; the protocol field may be absent', () => {
    const yaml = deployment('syslog', { ports: [{ containerPort: 514, name: 'syslog', protocol: 'UDP' }] }) + service('syslog', { ports: [{ port: 514, targetPort: 'syslog' }] });
    const [f] = run(yaml);
    expect(f!.summary).toContain('named targetPort resolves to no endpoint');
    expect(f!.plan!.operations[0]!.patch).toEqual([
      { op: 'test', path: '/spec/ports/0/port', value: 514 },
      { op: 'add', path: '/spec/ports/0/protocol', value: 'UDP' },
    ]);
    // service-target-port leaves this case to this check instead of calling the port wrong.
    expect(serviceTargetPort.run(ctx(yaml))).toEqual([]);
  });

  it('look-alikes that must not fire: matching protocols, DNS-style TCP+UDP pairs, undeclared ports, a wrong port number', () => {
    expect(run(MYSQL_POD + service('mysql', { selector: { name: 'mysql' }, ports: [{ port: 3306, targetPort: 3306, protocol: 'TCP' }] }))).toEqual([]);
    const dns = deployment('dns', { ports: [{ containerPort: 53, protocol: 'UDP' }, { containerPort: 53, protocol: 'TCP' }] });
    expect(run(dns + service('dns', { ports: [{ port: 53, targetPort: 53, protocol: 'UDP' }, { port: 53, targetPort: 53, protocol: 'TCP' }] }))).toEqual([]);
    expect(run(pod('bare', { labels: { app: 'bare' } }) + service('bare', { ports: [{ port: 80, targetPort: 8080, protocol: 'UDP' }] }))).toEqual([]);
    expect(run(MYSQL_POD + service('mysql', { selector: { name: 'mysql' }, ports: [{ port: 3306, targetPort: 8080, protocol: 'UDP' }] }))).toEqual([]);
  });

  describeShared('on the shared scenarios', () => {
    it.each(scenarioNames())('scenario %s: silent', (name) => {
      expect(runOn(servicePortProtocol, name)).toEqual([]);
      expect(runOn(servicePortProtocol, name, 'cluster')).toEqual([]);
    });
  });
});
