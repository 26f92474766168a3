import { serviceProxySkipped } from '../../../src/checks/service-proxy-skipped';
import { cluster, pod, runCheck, textOf } from './network-fixtures';

const slice = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'mysql-abcde', namespace: 'triton', labels: { 'kubernetes.io/service-name': 'mysql' } }, endpoints: [{ addresses: ['10.32.0.9'], conditions: { ready: true } }] };

function mysql(labels: Record<string, string>, clusterIP = '10.96.14.7') {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'mysql', namespace: 'triton', resourceVersion: '77', labels: { app: 'mysql', ...labels } }, spec: { clusterIP, selector: { name: 'mysql' }, ports: [{ port: 3306 }] } };
}

describe('service-proxy-skipped', () => {
  it('names a Service kube-proxy skips for its service-proxy-name label while no such proxy runs, with the patch that removes it', () => {
    const [f, ...rest] = runCheck(serviceProxySkipped, cluster([mysql({ 'service.kubernetes.io/service-proxy-name': 'foo-proxy' }), slice]), 'triton');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'SVC-PROXY-SKIPPED', severity: 'critical', rootCause: true, subject: { kind: 'Service', namespace: 'triton', name: 'mysql' } });
    expect(textOf(f!)).toContain('1 ready endpoint');
    expect(f!.plan!.operations[0]).toMatchObject({
      resourceVersion: '77',
      patch: [
        { op: 'test', path: '/metadata/labels/service.kubernetes.io~1service-proxy-name', value: 'foo-proxy' },
        { op: 'remove', path: '/metadata/labels/service.kubernetes.io~1service-proxy-name' },
      ],
    });
    const [headless] = runCheck(serviceProxySkipped, cluster([mysql({ 'service.kubernetes.io/headless': '' }), slice]), 'triton');
    expect(headless!.title).toContain('service.kubernetes.io/headless');
  });

  it('leaves alone a Service whose named proxy runs, a headless Service, and one without the labels', () => {
    const proxy = pod('kube-system', 'foo-proxy-x7k2p', { labels: { app: 'foo-proxy' } });
    expect(runCheck(serviceProxySkipped, cluster([mysql({ 'service.kubernetes.io/service-proxy-name': 'foo-proxy' }), slice, proxy]), 'triton')).toEqual([]);
    expect(runCheck(serviceProxySkipped, cluster([mysql({ 'service.kubernetes.io/headless': '' }, 'None'), slice]), 'triton')).toEqual([]);
    expect(runCheck(serviceProxySkipped, cluster([mysql({}), slice]), 'triton')).toEqual([]);
  });
});
