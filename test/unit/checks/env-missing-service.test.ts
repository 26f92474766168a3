import { parseAllDocuments } from 'yaml';
import { ClusterSnapshot } from '../../../src/cluster/snapshot';
import type { RawObject } from '../../../src/domain/kube-types';
import { envMissingService } from '../../../src/checks/env-missing-service';
import { hostIn, serviceNameOf } from '../../../src/checks/support/hostnames';
import { viewOf } from '../../support/view';
import { loud, runOn, scenarioNames } from './scenario-view';
import { TWO_TIER, deployment, pod, service } from './service-fixtures';
import { describeShared } from '../../support/scenarios';

const run = (yaml: string, namespace: string | null = 'triton') => envMissingService.run({ view: viewOf(yaml), namespace: namespace ?? undefined, now: new Date() });
const MYSQL = pod('mysql', { labels: { name: 'mysql' }, ports: [{ containerPort: 3306 }] }) + service('mysql', { selector: { name: 'mysql' }, ports: [{ port: 3306, targetPort: 3306 }] });
const webapp = (env: Record<string, string>) => deployment('webapp-mysql', { labels: { name: 'webapp-mysql' }, ports: [{ containerPort: 8080 }], env });

describe('env-missing-service', () => {
  it('lab alpha: DB_Host=mysql-service while Service mysql exists → env patch on the Deployment', () => {
    const [f, ...rest] = run(MYSQL + webapp({ DB_Host: 'mysql-service', DB_User: 'root', DB_Password: 'paswrd' }));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ severity: 'critical', rootCause: true, subject: { kind: 'Deployment', namespace: 'triton', name: 'webapp-mysql' } });
    expect(f!.summary).toContain('no Service mysql-service in namespace triton');
    expect(f!.title).toContain('did you mean mysql?');
    expect(f!.plan!.operations).toEqual([
      {
        action: 'patch',
        target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'triton', name: 'webapp-mysql' },
        patchType: 'json',
        resourceVersion: '500',
        patch: [
          { op: 'test', path: '/spec/template/spec/containers/0/env/0/value', value: 'mysql-service' },
          { op: 'replace', path: '/spec/template/spec/containers/0/env/0/value', value: 'mysql' },
        ],
      },
    ]);
    expect(f!.plan!.verify).toMatchObject({ check: 'env-missing-service', waitFor: 'rollout' });
    expect(f!.explains).toContainEqual(expect.objectContaining({ kind: 'Pod', name: 'webapp-mysql-5d4f-x0' }));
  });

  it('in a namespace of many Services, the evidence names the first 20 and counts the rest; each workload naming the host is reported', () => {
    const many = Array.from({ length: 25 }, (_, i) => service(`svc-${String(i).padStart(2, '0')}`, { selector: { app: `a${i}` } })).join('');
    const other = deployment('webapp-two', { labels: { name: 'webapp-two' }, ports: [{ containerPort: 8080 }], env: { DB_Host: 'mysql-service' } });
    const found = run(MYSQL + many + webapp({ DB_Host: 'mysql-service' }) + other);
    expect(found.map((f) => f.subject.name).sort()).toEqual(['webapp-mysql', 'webapp-two']);
    const listed = found[0]!.evidence.find((e) => e.text.startsWith('no Service mysql-service'))!.text;
    expect(listed).toContain('it has mysql, svc-00, svc-01');
    expect(listed).toContain('svc-18 and 6 more');
    expect(listed).not.toContain('svc-19');
  });

  it('the reverse (DB_Host=mysql while only mysql-service exists), URLs keep their shape', () => {
    const yaml = pod('db', { labels: { name: 'mysql' } }) + service('mysql-service', { selector: { name: 'mysql' }, ports: [{ port: 3306 }] }) + webapp({ DATABASE_URL: 'jdbc:mysql://root@mysql:3306/app' });
    const [f] = run(yaml);
    expect(f!.plan!.operations[0]!.patch).toContainEqual({ op: 'replace', path: '/spec/template/spec/containers/0/env/0/value', value: 'jdbc:mysql://root@mysql-service:3306/app' });
  });

  it('reads a bare host from a variable named …HOSTNAME (not only …HOST)', () => {
    const [f] = run(MYSQL + webapp({ DB_HOSTNAME: 'mysql-svc' }));
    expect(f!.plan!.operations[0]!.patch).toContainEqual({ op: 'replace', path: '/spec/template/spec/containers/0/env/0/value', value: 'mysql' });
  });

  it('bare pods and ConfigMap-sourced values get advice, not a plan', () => {
    expect(run(MYSQL + pod('client', { env: { DB_HOST: 'mysql-svc' } }))[0]!.plan).toBeNull();
    const cm = `---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-env, namespace: triton}\ndata: {REDIS_ADDR: 'mysq:3306'}\n`;
    const yaml = MYSQL + cm + deployment('api').replace('env: []', 'envFrom: [{configMapRef: {name: app-env}}]');
    const [f] = run(yaml);
    expect(f!.plan).toBeNull();
    expect(f!.advice!.join(' ')).toContain('ConfigMap app-env');
  });

  it('does not fire for existing Services, unrelated names, non-host vars, IPs and external hosts', () => {
    expect(run(TWO_TIER)).toEqual([]);
    expect(run(MYSQL + webapp({ DB_Host: 'postgres', DB_User: 'mysql-user', OTEL_SERVICE_NAME: 'mysq', API_URL: 'https://mysql.example.com/x', DB_ADDR: '10.0.0.3:3306' }))).toEqual([]);
    expect(run(MYSQL + webapp({ DB_Host: 'mysql.triton.svc.cluster.local' }))).toEqual([]);
  });

  it('names the Service in another namespace (short names resolve only in the pod namespace)', () => {
    const yaml = pod('db', { ns: 'data', labels: { app: 'db' } }) + service('db', { ns: 'data', selector: { app: 'db' } }) + webapp({ DB_HOST: 'db' });
    const [f] = run(yaml, null);
    expect(f!.plan!.operations[0]!.patch).toContainEqual({ op: 'replace', path: '/spec/template/spec/containers/0/env/0/value', value: 'db.data' });
  });

  describe('a name into another namespace where the Service is not, while the pod\'s own namespace has it', () => {
    const DATA_NS = `---\napiVersion: v1\nkind: Namespace\nmetadata: {name: data}\n` + service('postgres', { ns: 'data', selector: { app: 'postgres' }, ports: [{ port: 5432 }] });

    it('FQDN: keeps the form, swaps the namespace; says the name lives in the pod\'s namespace', () => {
      const [f, ...rest] = run(MYSQL + DATA_NS + webapp({ DB_Host: 'mysql.data.svc.cluster.local' }));
      expect(rest).toEqual([]);
      expect(f).toMatchObject({ code: 'WL-ENV-UNKNOWN-SERVICE', severity: 'critical', subject: { kind: 'Deployment', name: 'webapp-mysql' } });
      expect(f!.summary).toContain("no Service mysql in namespace data (Service mysql exists in the pod's own namespace triton)");
      expect(f!.plan!.operations[0]!.patch).toContainEqual({ op: 'replace', path: '/spec/template/spec/containers/0/env/0/value', value: 'mysql.triton.svc.cluster.local' });
    });

    it('name.namespace and URLs; a namespace that does not exist resolves nothing either', () => {
      expect(run(MYSQL + DATA_NS + webapp({ DB_Host: 'mysql.data' }))[0]!.plan!.operations[0]!.patch).toContainEqual({ op: 'replace', path: '/spec/template/spec/containers/0/env/0/value', value: 'mysql.triton' });
      const [gone] = run(MYSQL + DATA_NS + webapp({ DATABASE_URL: 'mysql://root@mysql.dta.svc.cluster.local:3306/app' }));
      expect(gone!.summary).toContain('namespace dta does not exist');
      expect(gone!.plan!.operations[0]!.patch).toContainEqual({ op: 'replace', path: '/spec/template/spec/containers/0/env/0/value', value: 'mysql://root@mysql.triton.svc.cluster.local:3306/app' });
    });

    it('look-alikes that must not fire: the Service exists in the named namespace; no such name anywhere near', () => {
      const dataMysql = service('mysql', { ns: 'data', selector: { app: 'mysql' }, ports: [{ port: 3306 }] });
      expect(run(MYSQL + DATA_NS + dataMysql + webapp({ DB_Host: 'mysql.data.svc.cluster.local' }))).toEqual([]);
      expect(run(MYSQL + DATA_NS + webapp({ CACHE_HOST: 'redis.data.svc.cluster.local' }))).toEqual([]);
    });

    it('when the cluster-wide Service read was refused, other namespaces are not judged', () => {
      const objects = parseAllDocuments(MYSQL + DATA_NS + webapp({ DB_Host: 'mysql.data.svc.cluster.local' })).map((d) => d.toJS() as RawObject);
      const refused = new ClusterSnapshot([{ kind: 'Service', message: 'the bot may not list services' }]).addObjects(objects);
      const allowed = new ClusterSnapshot().addObjects(objects);
      expect(envMissingService.run({ view: allowed, namespace: 'triton', now: new Date() })).toHaveLength(1);
      expect(envMissingService.run({ view: refused, namespace: 'triton', now: new Date() })).toEqual([]);
    });
  });

  it('hostIn / serviceNameOf', () => {
    expect(hostIn('DB_Host', 'mysql')).toMatchObject({ host: 'mysql', start: 0, end: 5 });
    expect(hostIn('X', 'redis://:pw@cache:6379/0')).toMatchObject({ host: 'cache', port: 6379 });
    expect(hostIn('DB_User', 'root')).toBeUndefined();
    expect(hostIn('DB_Host', 'localhost')).toBeUndefined();
    expect(serviceNameOf('db.data.svc.cluster.local', 'triton', new Set())).toEqual({ name: 'db', namespace: 'data', short: false });
    expect(serviceNameOf('api.example', 'triton', new Set(['data']))).toBeUndefined();
  });

  describeShared('on the shared scenarios', () => {
    it.each(scenarioNames())('scenario %s: silent', (name) => {
      expect(loud(runOn(envMissingService, name))).toEqual([]);
      expect(loud(runOn(envMissingService, name, 'cluster'))).toEqual([]);
    });
  });
});
