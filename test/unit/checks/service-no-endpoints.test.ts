import { nearMissSelector, serviceNoEndpoints } from '../../../src/checks/service-no-endpoints';
import { viewOf } from '../../support/view';
import { loud, runOn, scenarioNames } from './scenario-view';
import { TWO_TIER, deployment, pod, service } from './service-fixtures';
import { describeShared } from '../../support/scenarios';

const run = (yaml: string, namespace: string | null = 'triton') => serviceNoEndpoints.run({ view: viewOf(yaml), namespace: namespace ?? undefined, now: new Date() });

describe('service-no-endpoints', () => {
  it('lab gamma: selector name=sql00001, the mysql pod serves the target port → selector patch', () => {
    const yaml = TWO_TIER + service('mysql-service', { selector: { name: 'sql00001' }, ports: [{ port: 3306, targetPort: 3306 }] });
    const [f, ...rest] = run(yaml);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, subject: { kind: 'Service', namespace: 'triton', name: 'mysql-service' } });
    expect(f!.summary).toContain('name=sql00001');
    expect(f!.plan!.operations).toEqual([
      {
        action: 'patch',
        target: { apiVersion: 'v1', kind: 'Service', namespace: 'triton', name: 'mysql-service' },
        patchType: 'json',
        resourceVersion: '42',
        patch: [
          { op: 'test', path: '/spec/selector', value: { name: 'sql00001' } },
          { op: 'replace', path: '/spec/selector', value: { name: 'mysql' } },
        ],
      },
    ]);
    expect(f!.plan!.verify).toEqual({ check: 'service-no-endpoints', subject: f!.subject, waitFor: 'endpoints' });
  });

  it('near-miss value on the same key, using the Deployment selector (no pod-template-hash)', () => {
    const yaml = deployment('webapp', { labels: { app: 'webapp' }, ports: [{ containerPort: 9000 }], replicas: 2 }) + service('web', { selector: { app: 'web-app' } });
    const [f] = run(yaml);
    expect(f!.plan!.operations[0]!.patch).toContainEqual({ op: 'replace', path: '/spec/selector', value: { app: 'webapp' } });
    expect(f!.evidence.some((e) => e.text.includes('near miss'))).toBe(true);
  });

  it('same value under another key', () => {
    const yaml = pod('db', { labels: { app: 'mysql' } }) + pod('other', { labels: { app: 'nginx' } }) + service('db', { selector: { name: 'mysql' }, ports: [{ port: 3306 }] });
    expect(run(yaml)[0]!.plan!.operations[0]!.patch).toContainEqual({ op: 'replace', path: '/spec/selector', value: { app: 'mysql' } });
  });

  it('lists the choices and plans nothing when several workloads could be meant', () => {
    const yaml = deployment('api-a', { labels: { app: 'api-a' }, ports: [{ containerPort: 8080 }] }) + deployment('api-b', { labels: { app: 'api-b' }, ports: [{ containerPort: 8080 }] }) + service('api', { selector: { app: 'zzz' } });
    const [f] = run(yaml);
    expect(f!.severity).toBe('critical');
    expect(f!.plan).toBeNull();
    expect(f!.summary).toContain('Candidates: api-a');
  });

  it('names a candidate whose labels also match other pods, without planning', () => {
    const yaml = deployment('web', { labels: { app: 'web' } }) + pod('web-debug', { labels: { app: 'web' } }) + service('web', { selector: { app: 'wep' } });
    const [f] = run(yaml);
    expect(f!.plan).toBeNull();
    expect(f!.summary).toContain('Candidates: web');
  });

  it('says where pods with the labels run when they are live in another namespace only', () => {
    const elsewhere = (f: { evidence: { text: string }[] }) => f.evidence.filter((e) => e.text.includes('selectors only match pods'));
    const yaml = service('mysql', { selector: { app: 'mysql' }, ports: [{ port: 3306 }] }) + pod('mysql-0', { ns: 'data', labels: { app: 'mysql', tier: 'db' } });
    expect(elsewhere(run(yaml)[0]!).map((e) => e.text)).toEqual(['pods with labels app=mysql exist in namespace data; selectors only match pods in the Service\'s own namespace']);
    // A finished pod elsewhere backs nothing anywhere.
    const finished = service('mysql', { selector: { app: 'mysql' }, ports: [{ port: 3306 }] }) + pod('mysql-job', { ns: 'data', labels: { app: 'mysql' }, phase: 'Succeeded' });
    expect(elsewhere(run(finished)[0]!)).toEqual([]);
  });

  it('notes a workload scaled to zero instead of a broken selector', () => {
    const [f] = run(deployment('web', { replicas: 0, withPods: 0 }) + service('web'));
    expect(f).toMatchObject({ severity: 'info', plan: null });
  });

  it('does not fire for Services without selector, matching selectors, kube-dns, or other namespaces', () => {
    expect(run(TWO_TIER)).toEqual([]);
    expect(run(service('external-db', { selector: null }))).toEqual([]);
    expect(run(service('kube-dns', { ns: 'kube-system', selector: { 'k8s-app': 'kube-dns' } }), null)).toEqual([]);
    expect(run(service('lonely', { ns: 'other' }))).toEqual([]);
    expect(run(service('lonely', { ns: 'other' }), null)).toHaveLength(1);
  });

  it('ignores finished pods', () => {
    expect(run(pod('job-1', { labels: { app: 'web' }, phase: 'Succeeded' }) + service('web'))).toHaveLength(1);
  });

  it('nearMissSelector', () => {
    expect(nearMissSelector({ app: 'web-app' }, { app: 'webapp', tier: 'fe' })).toEqual({ app: 'webapp' });
    expect(nearMissSelector({ app: 'web' }, { app: 'db' })).toBeUndefined();
    expect(nearMissSelector({ app: 'web', tier: 'fe' }, { app: 'web', tier: 'fe' })).toBeUndefined();
  });

  describeShared('on the shared scenarios', () => {
    it.each(scenarioNames())('scenario %s: silent', (name) => {
      expect(loud(runOn(serviceNoEndpoints, name))).toEqual([]);
      expect(loud(runOn(serviceNoEndpoints, name, 'cluster'))).toEqual([]);
    });
  });
});
