import { CHECKS } from '../../../src/checks';
import { workloadImagePull } from '../../../src/checks/workload-image-pull';
import { linkFindings } from '../../../src/engine/link-findings';
import { NOW, WEAVE_SANDBOX, cluster, daemonSet, event, node, pod, runCheck, scenario, scenarioNames, textOf } from './network-fixtures';

/*
 * The real texts:
 * - kubelet pkg/kubelet/images/image_manager.go (EnsureImageExists): Warning reason `Failed`,
 *   `Failed to pull image %q: %v`; Normal reason `BackOff`, `Back-off pulling image %q`; container waiting reasons
 *   ErrImagePull / ImagePullBackOff (pkg/kubelet/images/types.go).
 * - the error inside, from containerd: internal/cri/server/images/image_pull.go `failed to pull and unpack image %q: %w`,
 *   the client's `failed to resolve reference %q: %w`, and core/remotes/docker/resolver.go `%s: %w` with errdefs.ErrNotFound
 *   (`not found`); the gRPC status prefix `rpc error: code = NotFound desc = `.
 */
const BAD = 'registry.k8s.io/coredns/coredns:v1.9.33';
const GOOD = 'registry.k8s.io/coredns/coredns:v1.9.3';
const NOT_FOUND = `Failed to pull image "${BAD}": rpc error: code = NotFound desc = failed to pull and unpack image "${BAD}": failed to resolve reference "${BAD}": ${BAD}: not found`;
const BACKOFF = `Back-off pulling image "${BAD}"`;
const UNAUTHORIZED = `Failed to pull image "${GOOD}": rpc error: code = Unknown desc = failed to pull and unpack image "${GOOD}": failed to resolve reference "${GOOD}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`;

const labels = { 'k8s-app': 'kube-dns' };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the fixture edits deep paths of a hand-built object
type Obj = Record<string, any>;

function template(image: string): Obj {
  return { metadata: { labels }, spec: { containers: [{ name: 'coredns', image, args: ['-conf', '/etc/coredns/Corefile'] }] } };
}

function rs(name: string, revision: number | undefined, image: string, ready: number): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: 'kube-system',
      ...(revision !== undefined ? { annotations: { 'deployment.kubernetes.io/revision': String(revision) } } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'coredns', controller: true }],
    },
    spec: { replicas: ready, selector: { matchLabels: labels }, template: template(image) },
    status: { replicas: ready, readyReplicas: ready },
  };
}

function withImage(p: Obj, image: string): Obj {
  p.spec.containers[0].image = image;
  return p;
}

/** CoreDNS mid-rollout: revision 1 (GOOD) keeps 2 Ready pods, revision 2 (current image) has one pod stuck pulling. */
function rollout(o: { current?: string; previous?: string; events?: Obj[]; oldReady?: boolean; revisions?: boolean } = {}) {
  const current = o.current ?? BAD;
  const previous = o.previous ?? GOOD;
  const revisions = o.revisions ?? true;
  const oldShape = o.oldReady === false ? 'crashloop' : 'running';
  return cluster([
    node('node1'),
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system', resourceVersion: '9001', annotations: { 'deployment.kubernetes.io/revision': '2' } },
      spec: { replicas: 2, selector: { matchLabels: labels }, template: template(current) },
    },
    rs('coredns-787d4945fb', revisions ? 1 : undefined, previous, o.oldReady === false ? 0 : 2),
    rs('coredns-5c98db65d4', revisions ? 2 : undefined, current, 0),
    withImage(pod('kube-system', 'coredns-787d4945fb-jbvcb', { owner: { kind: 'ReplicaSet', name: 'coredns-787d4945fb' }, labels, shape: oldShape, containers: ['coredns'] }), previous),
    withImage(pod('kube-system', 'coredns-787d4945fb-ll5h6', { owner: { kind: 'ReplicaSet', name: 'coredns-787d4945fb' }, labels, shape: oldShape, containers: ['coredns'] }), previous),
    withImage(pod('kube-system', 'coredns-5c98db65d4-x7k2p', { owner: { kind: 'ReplicaSet', name: 'coredns-5c98db65d4' }, labels, shape: 'imagepull', containers: ['coredns'] }), current),
    ...(o.events ?? [
      event('Pod', 'kube-system', 'coredns-5c98db65d4-x7k2p', 'Failed', NOT_FOUND, { count: 4, lastMin: 3 }),
      event('Pod', 'kube-system', 'coredns-5c98db65d4-x7k2p', 'BackOff', BACKOFF, { count: 40, type: 'Normal' }),
    ]),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system' }, spec: { selector: labels } },
  ]);
}

describe('workload-image-pull', () => {
  it('CoreDNS after an image change: names the bad image with the kubelet error, plans the rollback to the previous ReplicaSet image', () => {
    const findings = runCheck(workloadImagePull, rollout(), 'triton');
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({ code: 'WL-IMAGE-PULL', severity: 'warning', rootCause: true, subject: { kind: 'Deployment', namespace: 'kube-system', name: 'coredns' } });
    expect(f.title).toBe(`deployment/coredns -n kube-system cannot pull image ${BAD}`);
    expect(f.summary).toContain(`stuck in ImagePullBackOff: the kubelet cannot pull \`${BAD}\``);
    expect(f.summary).toContain(`${BAD}: not found`);
    expect(f.summary).toContain(`The image changed in revision 2 (from \`${GOOD}\` in revision 1)`);
    expect(f.summary).toContain('2 pods of the previous revision still serve');
    expect(f.evidence).toContainEqual(expect.objectContaining({ type: 'event', text: `Warning Failed (x4): ${NOT_FOUND}` }));
    expect(f.evidence).toContainEqual(expect.objectContaining({ type: 'event', text: `Normal BackOff (x40): ${BACKOFF}` }));
    expect(textOf(f)).toContain('coredns-787d4945fb revision 1 registry.k8s.io/coredns/coredns:v1.9.3 (2 ready)');
    expect(f.advice![0]).toContain('the name or tag is wrong');
    expect(f.advice!.join('\n')).toContain('rollout undo deployment/coredns --to-revision=1');
    expect(f.plan).toMatchObject({ risk: 'medium', verify: { check: 'workload-image-pull', waitFor: 'rollout' } });
    expect(f.plan!.operations).toEqual([
      {
        action: 'patch',
        target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'kube-system', name: 'coredns' },
        patchType: 'json',
        patch: [
          { op: 'test', path: '/spec/template/spec/containers/0/image', value: BAD },
          { op: 'replace', path: '/spec/template/spec/containers/0/image', value: GOOD },
        ],
        resourceVersion: '9001',
      },
    ]);
    expect(f.explains!.map((r) => `${r.kind}/${r.name}`)).toEqual(expect.arrayContaining(['Deployment/coredns', 'Pod/coredns-5c98db65d4-x7k2p', 'Service/kube-dns']));
  });

  it('is critical when nothing of the workload is Ready', () => {
    const [f] = runCheck(workloadImagePull, rollout({ oldReady: false }), 'triton');
    expect(f!.severity).toBe('critical');
    expect(f!.summary).toContain('No pod of it is Ready');
  });

  it('names the image from the pod status even when the events expired (Event TTL 1h)', () => {
    const [f] = runCheck(workloadImagePull, rollout({ events: [] }), 'triton');
    expect(f!.summary).toContain(`cannot pull \`${BAD}\`.`);
    expect(f!.plan).toBeDefined();
  });

  it('look-alike: the same image as the previous revision (registry credentials, outage) gets the reason but no rollback plan', () => {
    const events = [event('Pod', 'kube-system', 'coredns-5c98db65d4-x7k2p', 'Failed', UNAUTHORIZED, { count: 3 })];
    const [f] = runCheck(workloadImagePull, rollout({ current: GOOD, previous: GOOD, events }), 'triton');
    expect(f!.code).toBe('WL-IMAGE-PULL');
    expect(f!.plan).toBeUndefined();
    expect(f!.advice![0]).toContain('imagePullSecrets');
  });

  it('once the template names the previous image again, the stuck pod is the rollout\'s business: no finding', () => {
    const view = rollout();
    const deploy = view.get('Deployment', 'kube-system', 'coredns')!;
    deploy.spec!.template.spec!.containers[0]!.image = GOOD;
    expect(runCheck(workloadImagePull, view, 'triton')).toHaveLength(0);
  });

  it('look-alike: ReplicaSets without revision annotations give no rollback plan', () => {
    const [f] = runCheck(workloadImagePull, rollout({ revisions: false }), 'triton');
    expect(f!.plan).toBeUndefined();
  });

  it('look-alike: crash-looping or starting pods are not image-pull findings', () => {
    const view = cluster([
      node('node1'),
      pod('triton', 'web-1', { shape: 'crashloop' }),
      pod('triton', 'web-2', { shape: 'creating' }),
      pod('kube-system', 'coredns-787d4945fb-jbvcb', { labels, shape: 'crashloop', containers: ['coredns'] }),
    ]);
    expect(runCheck(workloadImagePull, view, 'triton')).toHaveLength(0);
  });

  it('a bare pod in the namespace and a DaemonSet pod in kube-system are reported too (no plan without ReplicaSets)', () => {
    const view = cluster([
      node('node1'),
      pod('triton', 'probe', { shape: 'imagepull' }),
      pod('kube-system', 'weave-net-66cxw', { owner: { kind: 'DaemonSet', name: 'weave-net' }, shape: 'imagepull', containers: ['weave'] }),
      pod('other', 'elsewhere', { shape: 'imagepull' }),
    ]);
    const findings = runCheck(workloadImagePull, view, 'triton');
    expect(findings.map((f) => `${f.subject.kind}/${f.subject.name}`).sort()).toEqual(['DaemonSet/weave-net', 'Pod/probe']);
    expect(findings.every((f) => f.plan === undefined)).toBe(true);
    expect(findings.find((f) => f.subject.kind === 'DaemonSet')!.advice!.join('\n')).toContain('rollout undo daemonset/weave-net');
  });

  it('the CNI agent that cannot pull its image is the cause; "CNI agent unhealthy" and the stuck app pods hang under it', () => {
    const weaveImage = 'weaveworks/weave-kube:2.8.9';
    const ds = daemonSet('kube-system', 'weave-net', { desired: 1, ready: 0 }) as { spec: { template: { spec: { containers: unknown[] } } } };
    ds.spec.template.spec.containers[0] = { name: 'weave', image: weaveImage };
    const agent = pod('kube-system', 'weave-net-abcde', { owner: { kind: 'DaemonSet', name: 'weave-net' }, labels: { name: 'weave-net' }, shape: 'imagepull', containers: ['weave'] });
    const view = cluster([
      node('node1'),
      ds,
      withImage(agent, weaveImage),
      event('Pod', 'kube-system', 'weave-net-abcde', 'Failed', `Failed to pull image "${weaveImage}": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/${weaveImage}": failed to resolve reference "docker.io/${weaveImage}": docker.io/${weaveImage}: not found`),
      pod('triton', 'web-1', { shape: 'creating', ageMin: 30 }),
      event('Pod', 'triton', 'web-1', 'FailedCreatePodSandBox', WEAVE_SANDBOX),
    ]);
    const drafts = CHECKS.flatMap((check, order) => check.run({ view, namespace: 'triton', now: NOW }).map((draft) => ({ check: check.id, order, draft })));
    const findings = linkFindings(drafts);
    const root = findings.find((f) => f.rootCause)!;
    expect(root).toMatchObject({ check: 'workload-image-pull', subject: { kind: 'DaemonSet', name: 'weave-net' } });
    expect(findings.filter((f) => f.rootCause)).toHaveLength(1);
    expect(findings.find((f) => f.check === 'cni-not-running')!.causedBy).toBe(root.id);
  });

  it.each(scenarioNames())('scenario %s: no image pull failure', (name) => {
    expect(runCheck(workloadImagePull, scenario(name), 'triton', new Date())).toHaveLength(0);
  });
});
