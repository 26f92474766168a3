import type { Check, CheckContext } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import type { Deployment, KubeEvent, Pod, ReplicaSet } from '../domain/kube-types';
import { type ObjectRef, kubectl, refKey, refLabel, refOf } from '../domain/object-ref';
import { makePlan } from '../domain/plan';
import { DNS_NAMESPACE, clusterDnsService, coreDnsDeployment } from './support/dns';
import { eventEvidence } from './support/evidence';
import { type JsonPatchOp, pointer, testAndReplace } from './support/json-patch';
import { podStateText } from './support/pod-evidence';
import { isReady, owningWorkload, CONTAINER_STATUS_READS } from './support/pods';

const ID = 'workload-image-pull';

/** kubelet container waiting reasons for an image that cannot be pulled (pkg/kubelet/images/types.go). */
const PULL_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
/** kubelet pkg/kubelet/images/image_manager.go: `Failed to pull image %q: %v` (reason Failed) and `Back-off pulling image %q` (reason BackOff). */
const FAILED_PULL = /^Failed to pull image "([^"]+)": (.+)$/s;
const BACKOFF_PULL = /^Back-off pulling image "([^"]+)"/;
const REVISION = 'deployment.kubernetes.io/revision';

interface BadImage {
  container: string;
  init: boolean;
  image: string;
  reason: string;
}

interface Group {
  owner: ObjectRef;
  pods: { pod: Pod; bad: BadImage[] }[];
}

/** The namespace's pods and the system workloads (kube-system) every namespace depends on; every pod cluster-wide. */
function podsInScope(ctx: CheckContext): readonly Pod[] {
  if (ctx.namespace === undefined) return ctx.view.list('Pod');
  const own = ctx.view.list('Pod', ctx.namespace);
  return ctx.namespace === DNS_NAMESPACE ? own : [...own, ...ctx.view.list('Pod', DNS_NAMESPACE)];
}

function badImages(pod: Pod): BadImage[] {
  const spec = [...(pod.spec?.initContainers ?? []).map((c) => ({ c, init: true })), ...(pod.spec?.containers ?? []).map((c) => ({ c, init: false }))];
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return statuses.flatMap((s) => {
    const reason = s.state?.waiting?.reason;
    if (!reason || !PULL_REASONS.has(reason)) return [];
    const declared = spec.find((x) => x.c.name === s.name);
    return [{ container: s.name, init: declared?.init ?? false, image: declared?.c.image ?? s.image ?? '', reason }];
  });
}

/** The kubelet's pull events for the pod, newest first: `Failed to pull image` (with the registry's answer) and `Back-off pulling image`. */
function pullEvents(ctx: CheckContext, pod: Pod): { failed: KubeEvent[]; backoff?: KubeEvent } {
  const events = [...ctx.view.events(refOf('Pod', pod))].reverse();
  return {
    failed: events.filter((e) => e.reason === 'Failed' && FAILED_PULL.test(e.message ?? '')),
    backoff: events.find((e) => e.reason === 'BackOff' && BACKOFF_PULL.test(e.message ?? '')),
  };
}

/** What the registry's answer means, in a sentence a human acts on. */
function pullAdvice(error: string | undefined, reason: string, image: string, nodes: string[], pod: Pod): string {
  if (reason === 'InvalidImageName') return `\`${image}\` is not a valid image reference: correct it in the workload's pod template.`;
  if (!error) return `Read the pull error: ${kubectl.describe(refOf('Pod', pod))} (Events, "Failed to pull image"), or on ${nodes.join(', ') || 'the node'}: crictl pull ${image}`;
  if (/pull access denied|may require authorization/i.test(error)) {
    return `The registry refuses \`${image}\`: the repository does not exist or needs credentials: check the name, and the pod's imagePullSecrets.`;
  }
  if (/not found|manifest unknown|does not exist|404/i.test(error)) return `The registry has no \`${image}\`: the name or tag is wrong (typo, or a tag that was never pushed).`;
  if (/unauthori[sz]ed|denied|authentication required|forbidden|401|403/i.test(error)) return `The registry refuses the pull of \`${image}\` (credentials): check the pod's imagePullSecrets and that the account may read this repository.`;
  if (/no such host|i\/o timeout|connection refused|dial tcp|TLS handshake|context deadline exceeded|network is unreachable/i.test(error)) {
    return `The node${nodes.length > 1 ? 's' : ''} ${nodes.join(', ')} cannot reach the registry of \`${image}\` (DNS, proxy or firewall on the node): try \`crictl pull ${image}\` there.`;
  }
  return `The pull of \`${image}\` fails on ${nodes.join(', ') || 'the node'}: try \`crictl pull ${image}\` there to see the registry's answer.`;
}

/** A Deployment's ReplicaSets by revision (annotation deployment.kubernetes.io/revision), newest first. */
function replicaSetsByRevision(ctx: CheckContext, deploy: Deployment): { rs: ReplicaSet; revision: number }[] {
  return ctx.view
    .list('ReplicaSet', deploy.metadata?.namespace)
    .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === deploy.metadata?.name))
    .map((rs) => ({ rs, revision: Number(rs.metadata?.annotations?.[REVISION]) }))
    .filter((x) => Number.isInteger(x.revision) && x.revision > 0)
    .sort((a, b) => b.revision - a.revision);
}

interface Rollback {
  from: number;
  to: number;
  changes: { container: string; init: boolean; index: number; bad: string; previous: string }[];
}

/** The image change to undo: each failing container's image in the previous revision, when the current template still names the bad image. */
function rollbackOf(ctx: CheckContext, deploy: Deployment, bad: BadImage[]): Rollback | undefined {
  const [current, previous] = replicaSetsByRevision(ctx, deploy);
  if (!current || !previous) return undefined;
  const changes: Rollback['changes'] = [];
  for (const b of bad) {
    const list = (b.init ? deploy.spec?.template?.spec?.initContainers : deploy.spec?.template?.spec?.containers) ?? [];
    const index = list.findIndex((c) => c.name === b.container);
    if (index < 0 || list[index]!.image !== b.image) return undefined;
    const before = ((b.init ? previous.rs.spec?.template?.spec?.initContainers : previous.rs.spec?.template?.spec?.containers) ?? []).find((c) => c.name === b.container)?.image;
    // Same image in the previous revision: not an image change (registry down, credentials), nothing to roll back to.
    if (!before || before === b.image) return undefined;
    changes.push({ container: b.container, init: b.init, index, bad: b.image, previous: before });
  }
  return changes.length > 0 ? { from: current.revision, to: previous.revision, changes } : undefined;
}

/** The workload's pod template, for Deployments, DaemonSets and StatefulSets. */
function templateOf(ctx: CheckContext, owner: ObjectRef) {
  const kind = owner.kind === 'Deployment' || owner.kind === 'DaemonSet' || owner.kind === 'StatefulSet' ? owner.kind : undefined;
  return kind ? ctx.view.get(kind, owner.namespace, owner.name)?.spec?.template?.spec : undefined;
}

/** Whether the workload still asks for this image: once its template names another, the stuck pod is being replaced by the rollout. */
function stillWanted(template: ReturnType<typeof templateOf>, b: BadImage): boolean {
  if (!template) return true;
  const list = (b.init ? template.initContainers : template.containers) ?? [];
  return list.some((c) => c.name === b.container && c.image === b.image);
}

function groupByWorkload(ctx: CheckContext): Group[] {
  const groups = new Map<string, Group>();
  const seen = new Set<string>();
  for (const pod of podsInScope(ctx)) {
    const key = refKey(refOf('Pod', pod));
    if (seen.has(key) || pod.metadata?.deletionTimestamp) continue;
    seen.add(key);
    const pulling = badImages(pod);
    // Most pods pull fine: their owner and its template are not looked up.
    if (pulling.length === 0) continue;
    const owner = owningWorkload(ctx.view, pod);
    const template = templateOf(ctx, owner);
    const bad = pulling.filter((b) => stillWanted(template, b));
    if (bad.length === 0) continue;
    const g = groups.get(refKey(owner)) ?? { owner, pods: [] };
    g.pods.push({ pod, bad });
    groups.set(refKey(owner), g);
  }
  return [...groups.values()];
}

export const workloadImagePull: Check = {
  id: ID,
  title: 'Workloads stuck in ImagePullBackOff / ErrImagePull (e.g. CoreDNS after an image change): the bad image, and the rollback to the previous ReplicaSet\'s image',
  codes: ['WL-IMAGE-PULL'],
  needs: ['Pod', 'Event', 'ReplicaSet', 'Deployment', 'DaemonSet', 'StatefulSet', 'Service'],
  reads: {
    DaemonSet: ['spec.template.spec.containers.image', 'spec.template.spec.containers.name'],
    Deployment: ['metadata.resourceVersion', 'spec.template.spec.containers.image', 'spec.template.spec.containers.name'],
    Event: ['count', 'message', 'reason', 'type'],
    Pod: ['metadata.creationTimestamp', 'metadata.deletionTimestamp', 'metadata.ownerReferences', 'spec.containers.image', 'spec.containers.name', 'spec.initContainers', 'spec.nodeName', 'status.conditions', ...CONTAINER_STATUS_READS],
    ReplicaSet: ['metadata.annotations', 'metadata.ownerReferences', 'spec.template.spec.containers.image', 'spec.template.spec.containers.name', 'status'],
  },
  run(ctx) {
    const { view } = ctx;
    const findings: FindingDraft[] = [];
    for (const { owner, pods } of groupByWorkload(ctx)) {
      const siblings = owner.kind === 'Pod' ? pods.map((p) => p.pod) : view.list('Pod', owner.namespace).filter((p) => refKey(owningWorkload(view, p)) === refKey(owner));
      const ready = siblings.filter(isReady).length;
      const bad = [...new Map(pods.flatMap((p) => p.bad).map((b) => [`${b.container}=${b.image}`, b])).values()];
      const events = pods.map((p) => ({ pod: p.pod, ...pullEvents(ctx, p.pod) }));
      // The registry's answer per image (newest first), as the kubelet quoted it.
      const pullErrors = new Map<string, string>();
      for (const e of events.flatMap((x) => x.failed)) {
        const m = FAILED_PULL.exec(e.message ?? '');
        if (m && !pullErrors.has(m[1]!)) pullErrors.set(m[1]!, m[2]!.trim());
      }
      const pullError = bad.map((b) => pullErrors.get(b.image)).find(Boolean);
      const nodes = [...new Set(pods.map((p) => p.pod.spec?.nodeName).filter((n): n is string => Boolean(n)))];
      const images = bad.map((b) => `\`${b.image}\``).join(', ');
      const reasons = [...new Set(bad.map((b) => b.reason))].join('/');

      const evidence: Evidence[] = [
        ...events.flatMap((e) => [e.failed[0], e.backoff].filter((x): x is KubeEvent => x !== undefined).map((x) => eventEvidence(x, refOf('Pod', e.pod)))).slice(0, 2),
        ...pods.slice(0, 2).map((p): Evidence => ({ type: 'object', text: podStateText(p.pod, ctx.now), command: kubectl.describe(refOf('Pod', p.pod)) })),
      ];
      const deploy = owner.kind === 'Deployment' ? view.get('Deployment', owner.namespace, owner.name) : undefined;
      const rollback = deploy ? rollbackOf(ctx, deploy, bad) : undefined;
      if (deploy) {
        const revisions = replicaSetsByRevision(ctx, deploy).slice(0, 2);
        if (revisions.length > 0) {
          evidence.push({
            type: 'object',
            text: `ReplicaSets of ${refLabel(owner)}: ${revisions
              .map((r) => `${r.rs.metadata?.name} revision ${r.revision} ${(r.rs.spec?.template?.spec?.containers ?? []).map((c) => c.image).join(', ')} (${r.rs.status?.readyReplicas ?? 0} ready)`)
              .join('; ')}`,
            command: kubectl.list('replicasets', owner.namespace, ['-o', 'wide']),
          });
        }
      }

      const explains: ObjectRef[] = [owner, ...pods.map((p) => refOf('Pod', p.pod))];
      const isCoreDns = deploy !== undefined && coreDnsDeployment(view)?.metadata?.name === deploy.metadata?.name && owner.namespace === DNS_NAMESPACE;
      const svc = isCoreDns ? clusterDnsService(view) : undefined;
      if (svc) explains.push(refOf('Service', svc));
      const change = rollback
        ? ` The image changed in revision ${rollback.from} (from ${rollback.changes.map((c) => `\`${c.previous}\``).join(', ')} in revision ${rollback.to}), and the rollout is stuck on it.`
        : '';
      const impact = ready === 0 ? ' No pod of it is Ready.' : ` ${ready} pod${ready > 1 ? 's' : ''} of the previous revision still serve${ready > 1 ? '' : 's'}.`;
      const finding: FindingDraft = {
        code: 'WL-IMAGE-PULL',
        severity: ready === 0 ? 'critical' : 'warning',
        title: `${refLabel(owner)} cannot pull image ${bad.map((b) => b.image).join(', ')}`,
        summary:
          `${pods.length} pod${pods.length > 1 ? 's' : ''} of ${refLabel(owner)} ${pods.length > 1 ? 'are' : 'is'} stuck in ${reasons}: the kubelet cannot pull ${images}` +
          `${pullError ? ` (\`${pullError.length > 300 ? `${pullError.slice(0, 299)}…` : pullError}\`)` : ''}.${change}${impact}`,
        subject: owner,
        evidence,
        rootCause: true,
        explains,
        advice: [...new Set(bad.map((b) => pullAdvice(pullErrors.get(b.image), b.reason, b.image, nodes, pods[0]!.pod)))],
      };
      if (rollback && deploy) {
        const ops: JsonPatchOp[] = rollback.changes.flatMap((c) =>
          testAndReplace(pointer('spec', 'template', 'spec', c.init ? 'initContainers' : 'containers', c.index, 'image'), c.bad, c.previous),
        );
        finding.plan = makePlan({
          summary: `Roll ${refLabel(owner)} back to the image of revision ${rollback.to}: ${rollback.changes.map((c) => `${c.container} ${c.previous}`).join(', ')}`,
          risk: 'medium',
          effect: `The Deployment rolls out the previous image again (the nodes pulled it before); the stuck ${reasons} pods are replaced.`,
          operations: [
            {
              action: 'patch',
              target: { ...owner, apiVersion: 'apps/v1' },
              patchType: 'json',
              patch: ops,
              ...(deploy.metadata?.resourceVersion ? { resourceVersion: deploy.metadata.resourceVersion } : {}),
            },
          ],
          verify: { check: ID, subject: owner, waitFor: 'rollout' },
        });
        finding.advice!.push(`Or by hand: kubectl -n ${owner.namespace} rollout undo deployment/${owner.name} --to-revision=${rollback.to} (this restores the whole pod template of that revision, not only the image).`);
      } else if (owner.kind === 'DaemonSet' || owner.kind === 'StatefulSet' || owner.kind === 'Deployment') {
        finding.advice!.push(`If the image was just changed: kubectl -n ${owner.namespace} rollout history ${owner.kind.toLowerCase()}/${owner.name}, then rollout undo ${owner.kind.toLowerCase()}/${owner.name}.`);
      }
      findings.push(finding);
    }
    return findings;
  },
};
