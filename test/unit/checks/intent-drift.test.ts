import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { intentDrift } from '../../../src/checks/intent-drift';
import { parseIntent, renderIntent } from '../../../src/checks/support/intent';
import { intentOf } from '../../../src/engine/intent-of';
import { REPO_SCENARIO_DIR } from '../../support/scenarios';
import { viewOf } from '../../support/view';

const drifted = readFileSync(join(REPO_SCENARIO_DIR, 'intent-nodeport', 'objects.yaml'), 'utf8');
const asDeclared = drifted.replace('  - nodePort: 30080\n', '  - nodePort: 30081\n');
const run = (yaml: string) => intentDrift.run({ view: viewOf(yaml), namespace: 'triton', now: new Date('2026-03-01T07:00:00Z') });

describe('intent-drift', () => {
  it('finds web-service on NodePort 30080 where the intent says 30081, with a guarded plan back to 30081', () => {
    const [finding, ...rest] = run(drifted);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({
      code: 'INTENT-SERVICE-DRIFT',
      severity: 'critical',
      rootCause: true,
      subject: { kind: 'Service', namespace: 'triton', name: 'web-service' },
      summary: expect.stringContaining('port 8080 nodePort is 30080, the intent says 30081'),
    });
    expect(finding!.plan).toMatchObject({
      summary: 'Set service/web-service back to its declared intent: port 8080 nodePort is 30080 → 30081',
      operations: [{ action: 'patch', patchType: 'json', resourceVersion: '1077', patch: [{ op: 'test', path: '/spec/ports/0/nodePort', value: 30080 }, { op: 'replace', path: '/spec/ports/0/nodePort', value: 30081 }] }],
      verify: { check: 'intent-drift', subject: { kind: 'Service', name: 'web-service' } },
    });
  });

  it('stays quiet when the namespace is as declared, and without an intent', () => {
    expect(run(asDeclared)).toEqual([]);
    expect(run(asDeclared.replace('name: netdoctor-intent', 'name: other-config'))).toEqual([]);
  });

  it('reports a declared Service that is missing and an expected connection without its port', () => {
    const yaml = asDeclared.replace('        to: mysql:3306', '        to: mysql:3307').replace('      - name: mysql\n        type: ClusterIP', '      - name: mysql-primary\n        type: ClusterIP');
    expect(run(yaml).map((f) => [f.code, f.summary])).toEqual([
      ['INTENT-MISSING', 'The intent of namespace triton declares Service mysql-primary, which does not exist: clients of it cannot connect.'],
      ['INTENT-CONNECTION', 'The intent of namespace triton expects deployment/webapp-mysql to connect to mysql:3307, but Service triton/mysql has no port 3307.'],
    ]);
  });

  it('says which field of an unreadable intent is wrong, and checks nothing else', () => {
    const [finding, ...rest] = run(asDeclared.replace('nodePort: 30081\n            protocol', 'nodePort: high\n            protocol'));
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ code: 'INTENT-INVALID', severity: 'warning', summary: 'configmap/netdoctor-intent in triton: services[0].ports[0].nodePort must be a port number; drift from intent is not checked.' });
  });
});

describe('netdoctor intent init', () => {
  it('writes the healthy namespace as its intent, which the check then finds no drift from', () => {
    const view = viewOf(asDeclared);
    const intent = intentOf(view, 'triton');
    expect(intent.services).toEqual([
      { name: 'mysql', type: 'ClusterIP', ports: [{ port: 3306, targetPort: 3306, protocol: 'TCP' }], targets: 'pod/mysql' },
      { name: 'web-service', type: 'NodePort', ports: [{ port: 8080, targetPort: 8080, nodePort: 30081, protocol: 'TCP' }], targets: 'deployment/webapp-mysql' },
    ]);
    expect(intent.connections).toEqual(expect.arrayContaining([{ from: 'deployment/webapp-mysql', to: 'mysql:3306' }, { from: 'any', to: 'kube-dns.kube-system:53' }]));
    expect(intent.required).toEqual(['deployment/webapp-mysql', 'pod/mysql']);
    const text = renderIntent('triton', intent);
    expect(parseIntent(text)).toEqual(intent);
    const indented = text.split('\n').map((l) => `    ${l}`).join('\n');
    const withInit = asDeclared.replace(/( {2}intent\.yaml: \|\n)[\s\S]*$/, `$1${indented}\n`);
    expect(run(withInit)).toEqual([]);
  });
});
