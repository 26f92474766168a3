import { ingressBackend } from '../../../src/checks/ingress-backend';
import { cluster, runCheck, textOf } from './network-fixtures';

const webService = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-service', namespace: 'triton' }, spec: { selector: { name: 'webapp-mysql' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] } };
const nginx = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'k8s.io/ingress-nginx' } };

function ingress(backend: { name: string; port: { number?: number; name?: string } }, o: { className?: string; admitted?: boolean } = {}) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'webapp', namespace: 'triton', resourceVersion: '501' },
    spec: {
      ...(o.className ? { ingressClassName: o.className } : {}),
      rules: [{ host: 'triton.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: backend } }] } }],
    },
    status: { loadBalancer: o.admitted ? { ingress: [{ ip: '192.168.56.240' }] } : {} },
  };
}

describe('ingress-backend', () => {
  it('ING-01: a backend Service that does not exist, with the plan to the one near miss', () => {
    const [f, ...rest] = runCheck(ingressBackend, cluster([webService, nginx, ingress({ name: 'web-servise', port: { number: 8080 } }, { className: 'nginx' })]), 'triton');
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ code: 'ING-BACKEND-SERVICE', severity: 'critical', rootCause: true, subject: { kind: 'Ingress', namespace: 'triton', name: 'webapp' } });
    expect(textOf(f!)).toContain('503');
    expect(f!.plan!.operations[0]).toMatchObject({
      resourceVersion: '501',
      patch: [
        { op: 'test', path: '/spec/rules/0/http/paths/0/backend/service/name', value: 'web-servise' },
        { op: 'replace', path: '/spec/rules/0/http/paths/0/backend/service/name', value: 'web-service' },
      ],
    });
  });

  it('ING-01: a port the Service does not have (the container port written instead), by number and by name', () => {
    const [f] = runCheck(ingressBackend, cluster([webService, nginx, ingress({ name: 'web-service', port: { number: 80 } }, { className: 'nginx' })]), 'triton');
    expect(f).toMatchObject({ code: 'ING-BACKEND-PORT', subject: { kind: 'Ingress', name: 'webapp' } });
    expect(f!.summary).toContain("the Service's ports are http 8080/TCP");
    expect(f!.plan!.operations[0]!.patch).toEqual([
      { op: 'test', path: '/spec/rules/0/http/paths/0/backend/service/port', value: { number: 80 } },
      { op: 'replace', path: '/spec/rules/0/http/paths/0/backend/service/port', value: { number: 8080 } },
    ]);
    expect(runCheck(ingressBackend, cluster([webService, nginx, ingress({ name: 'web-service', port: { name: 'web' } })]), 'triton')).toMatchObject([{ code: 'ING-BACKEND-PORT' }]);
  });

  it('ING-02: a class no IngressClass defines (plan to the near miss), and no class without a default', () => {
    const [f] = runCheck(ingressBackend, cluster([webService, nginx, ingress({ name: 'web-service', port: { number: 8080 } }, { className: 'ngnix' })]), 'triton');
    expect(f).toMatchObject({ code: 'ING-CLASS-MISSING', severity: 'critical' });
    expect(f!.plan!.operations[0]!.patch).toEqual([
      { op: 'test', path: '/spec/ingressClassName', value: 'ngnix' },
      { op: 'replace', path: '/spec/ingressClassName', value: 'nginx' },
    ]);
    const plain = { ...nginx, metadata: { name: 'nginx' } };
    expect(runCheck(ingressBackend, cluster([webService, plain, ingress({ name: 'web-service', port: { number: 8080 } })]), 'triton')).toMatchObject([{ code: 'ING-CLASS-MISSING', severity: 'warning' }]);
  });

  it('is quiet for a correct Ingress: named or default class, Service port by number or name, or already admitted', () => {
    expect(runCheck(ingressBackend, cluster([webService, nginx, ingress({ name: 'web-service', port: { number: 8080 } }, { className: 'nginx' })]), 'triton')).toEqual([]);
    expect(runCheck(ingressBackend, cluster([webService, nginx, ingress({ name: 'web-service', port: { name: 'http' } })]), 'triton')).toEqual([]);
    const plain = { ...nginx, metadata: { name: 'nginx' } };
    expect(runCheck(ingressBackend, cluster([webService, plain, ingress({ name: 'web-service', port: { number: 8080 } }, { admitted: true })]), 'triton')).toEqual([]);
  });
});
