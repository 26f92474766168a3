import { probePortMismatch, refusedProbe } from '../../../src/checks/probe-port-mismatch';
import { viewOf } from '../../support/view';
import { deployment, event, service } from './service-fixtures';
import { describeShared } from '../../support/scenarios';
import { runOn, scenarioNames } from './scenario-view';

const run = (yaml: string) => probePortMismatch.run({ view: viewOf(yaml), namespace: 'triton', now: new Date() });

/**
 * The kubelet's texts: pkg/kubelet/prober/prober.go records `"%s probe failed: %s", probeType, output` with reason
 * Unhealthy (events.ContainerUnhealthy); the output of a refused httpGet probe is Go's url.Error from
 * pkg/probe/http/http.go (`Get "<url>": dial tcp <ip>:<port>: connect: connection refused`), of a tcpSocket probe the
 * net.OpError from pkg/probe/tcp/tcp.go.
 */
const READINESS_REFUSED = 'Readiness probe failed: Get "http://10.32.1.1:8081/": dial tcp 10.32.1.1:8081: connect: connection refused';
const LIVENESS_REFUSED = 'Liveness probe failed: dial tcp 10.32.1.1:9000: connect: connection refused';

/** webapp with a probe on `probePort` while the container declares 8080. */
function web(probe: string, ready = false): string {
  return deployment('webapp', { labels: { app: 'webapp' }, ports: [{ containerPort: 8080 }], ready })
    .replace(/( {6}- name: main\n {8}image: example\n {8}ports: [^\n]*\n {8}env: \[\])/, `$1\n        ${probe}`)
    .replace(/( {2}- name: main\n {4}image: example\n {4}ports: [^\n]*\n {4}env: \[\])/g, `$1\n    ${probe}`);
}

describe('probe-port-mismatch', () => {
  it('parses the kubelet refusal of http and tcp probes, and nothing else', () => {
    expect(refusedProbe(READINESS_REFUSED)).toEqual({ type: 'Readiness', port: 8081, output: 'Get "http://10.32.1.1:8081/": dial tcp 10.32.1.1:8081: connect: connection refused' });
    expect(refusedProbe(LIVENESS_REFUSED)).toMatchObject({ type: 'Liveness', port: 9000 });
    expect(refusedProbe('Readiness probe failed: HTTP probe failed with statuscode: 503')).toBeUndefined();
    expect(refusedProbe('Readiness probe failed: Get "http://10.32.1.1:8080/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)')).toBeUndefined();
  });

  it('readiness on 8081 while the container serves 8080: the probe in the Deployment is the cause, with a guarded port patch', () => {
    const yaml = web('readinessProbe: {httpGet: {path: /, port: 8081}}') + service('webapp', { selector: { app: 'webapp' } }) + event('webapp-5d4f-x0', 'Unhealthy', READINESS_REFUSED, { count: 57 });
    const [f, ...rest] = run(yaml);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'WL-PROBE-PORT', severity: 'critical', rootCause: true, subject: { kind: 'Deployment', namespace: 'triton', name: 'webapp' } });
    expect(f!.summary).toContain('Readiness probe failed: Get "http://10.32.1.1:8081/"');
    expect(f!.summary).toContain('Service webapp gets no ready endpoint');
    expect(f!.explains).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'Service', name: 'webapp' }), expect.objectContaining({ kind: 'Pod', name: 'webapp-5d4f-x0' })]));
    expect(f!.plan!.operations).toEqual([
      {
        action: 'patch',
        target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'triton', name: 'webapp' },
        patchType: 'json',
        resourceVersion: '500',
        patch: [
          { op: 'test', path: '/spec/template/spec/containers/0/readinessProbe/httpGet/port', value: 8081 },
          { op: 'replace', path: '/spec/template/spec/containers/0/readinessProbe/httpGet/port', value: 8080 },
        ],
      },
    ]);
  });

  it('a StatefulSet owning the pods directly gets the patch on its template', () => {
    const sts = `---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: triton, resourceVersion: '900'}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - {name: sidecar, image: example}
      - name: postgres
        image: postgres
        ports: [{containerPort: 5432}]
        livenessProbe: {tcpSocket: {port: 5433}}
---
apiVersion: v1
kind: Pod
metadata:
  name: db-0
  namespace: triton
  labels: {app: db}
  ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, controller: true, uid: s}]
spec:
  containers:
  - {name: sidecar, image: example}
  - name: postgres
    image: postgres
    ports: [{containerPort: 5432}]
    livenessProbe: {tcpSocket: {port: 5433}}
status:
  phase: Running
  conditions: [{type: Ready, status: 'False'}]
`;
    const [f] = run(sts + event('db-0', 'Unhealthy', 'Liveness probe failed: dial tcp 10.32.1.7:5433: connect: connection refused'));
    expect(f).toMatchObject({ subject: { kind: 'StatefulSet', name: 'db' } });
    expect(f!.plan!.operations[0]).toMatchObject({
      target: { kind: 'StatefulSet', name: 'db' },
      resourceVersion: '900',
      patch: [
        { op: 'test', path: '/spec/template/spec/containers/1/livenessProbe/tcpSocket/port', value: 5433 },
        { op: 'replace', path: '/spec/template/spec/containers/1/livenessProbe/tcpSocket/port', value: 5432 },
      ],
    });
  });

  it('once the template is fixed, the old pods and their events are left to the rollout', () => {
    const fixed = web('readinessProbe: {httpGet: {path: /, port: 8081}}').replace('      - name: main\n        image: example\n        ports: [{"containerPort":8080}]\n        env: []\n        readinessProbe: {httpGet: {path: /, port: 8081}}', '      - name: main\n        image: example\n        ports: [{"containerPort":8080}]\n        env: []\n        readinessProbe: {httpGet: {path: /, port: 8080}}');
    expect(fixed).toContain('port: 8080}}');
    expect(run(fixed + event('webapp-5d4f-x0', 'Unhealthy', READINESS_REFUSED))).toEqual([]);
  });

  it('a liveness tcpSocket probe on an undeclared port: restarts named, tcpSocket path patched', () => {
    const [f] = run(web('livenessProbe: {tcpSocket: {port: 9000}}', true) + event('webapp-5d4f-x0', 'Unhealthy', LIVENESS_REFUSED));
    expect(f!.summary).toContain('restarts the container');
    expect(f!.plan!.operations[0]!.patch).toContainEqual({ op: 'replace', path: '/spec/template/spec/containers/0/livenessProbe/tcpSocket/port', value: 8080 });
  });

  it('an httpGet path answered 404 (pkg/probe/http/http.go: `HTTP probe failed with statuscode: %d`): the path is the cause, advice only', () => {
    const [f, ...rest] = run(web('readinessProbe: {httpGet: {path: /healthz, port: 8080}}') + event('webapp-5d4f-x0', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 404'));
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'WL-PROBE-PATH', severity: 'critical', rootCause: true, subject: { kind: 'Deployment', name: 'webapp' }, plan: null });
    expect(f!.summary).toContain('httpGet /healthz on port 8080');
  });

  it('look-alikes that must not fire: refused on the declared port (the app is down, not the probe), no ports declared, other probe failures', () => {
    expect(run(web('readinessProbe: {httpGet: {path: /, port: 8080}}') + event('webapp-5d4f-x0', 'Unhealthy', READINESS_REFUSED.replace(/8081/g, '8080')))).toEqual([]);
    const undeclared = deployment('webapp', { labels: { app: 'webapp' }, ready: false }).replace(/env: \[\]/g, 'env: []\n    readinessProbe: {httpGet: {path: /, port: 8081}}');
    expect(run(undeclared + event('webapp-5d4f-x0', 'Unhealthy', READINESS_REFUSED))).toEqual([]);
    expect(run(web('readinessProbe: {httpGet: {path: /, port: 8080}}') + event('webapp-5d4f-x0', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503'))).toEqual([]);
  });

  describeShared('on the shared scenarios', () => {
    it.each(scenarioNames())('scenario %s: silent', (name) => {
      expect(runOn(probePortMismatch, name)).toEqual([]);
      expect(runOn(probePortMismatch, name, 'cluster')).toEqual([]);
    });
  });
});
