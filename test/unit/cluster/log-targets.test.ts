import { logTargets } from '../../../src/cluster/live-reader';
import type { Pod } from '../../../src/domain/kube-types';

type Status = NonNullable<NonNullable<Pod['status']>['containerStatuses']>[number];

const pod = (name: string, labels: Record<string, string>, status: Partial<Status>): Pod => ({
  metadata: { namespace: 'kube-system', name, labels },
  status: { containerStatuses: [{ name: 'c', ready: true, restartCount: 0, image: 'i', imageID: '', ...status }] },
});
const keys = (p: Pod): string[] => logTargets(p).map((k) => `${k.container}${k.previous ? '#previous' : ''}`);

describe('logTargets: which container logs a live read fetches', () => {
  it('the crashed instance and the current one of a restarted or crashing container', () => {
    expect(keys(pod('app', {}, { restartCount: 3, state: { running: { startedAt: '2026-03-01T07:00:00Z' } } }))).toEqual(['c#previous', 'c']);
    expect(keys(pod('app', {}, { restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }))).toEqual(['c#previous', 'c']);
    expect(keys(pod('app', {}, { state: { terminated: { exitCode: 1 } } }))).toEqual(['c']);
  });

  it('nothing of a healthy container, except running CoreDNS (its reload plugin logs a refused Corefile edit while it serves)', () => {
    const running = { state: { running: { startedAt: '2026-03-01T07:00:00Z' } } };
    expect(keys(pod('app', { app: 'web' }, running))).toEqual([]);
    expect(keys(pod('coredns-5d4f8c7b9-aaaaa', { 'k8s-app': 'kube-dns' }, running))).toEqual(['c']);
    expect(keys(pod('coredns-5d4f8c7b9-aaaaa', { 'k8s-app': 'kube-dns' }, { state: { waiting: { reason: 'ContainerCreating' } } }))).toEqual([]);
  });
});
