import type { AccessCheck } from '../domain/cluster-writer';
import type { KubeIdentity } from './approval';

/** Who may see a diagnosis of a namespace in chat (NETDOCTOR_READ_ACCESS, NETDOCTOR_CHANNEL_NAMESPACES). */
export interface ReadAccessPolicy {
  /** open: anyone in an allowed channel; checked: the requester's identity or the channel must be granted the namespace. */
  mode: 'open' | 'checked';
  /** Slack user id → Kubernetes identity: the same map approvals use. */
  identities: Record<string, KubeIdentity>;
  /** Channel id → namespaces whose diagnoses its members may see (`*`: every namespace). */
  channelNamespaces: Record<string, string[]>;
}

/** A SubjectAccessReview against the cluster being diagnosed. */
export type AccessQuestion = (check: AccessCheck) => Promise<{ allowed: boolean; reason: string }>;

export interface ReadRequest {
  requestedBy: string;
  channel: string;
  /** Absent for a cluster-wide run: then every namespace must be granted. */
  namespace?: string;
}

/** What a diagnosis shows (pods, their logs): a requester may see it if the cluster lets them read both. */
const READS = [
  { verb: 'get', kind: 'Pod', subresource: undefined, words: 'get pods' },
  { verb: 'get', kind: 'Pod', subresource: 'log', words: 'get pods/log' },
] as const;

/**
 * Why this requester may not see a diagnosis of this namespace, in the words they read, or
 * undefined when they may: chat shows no more than the cluster would show them. Granted by the
 * channel allow-list, or by the requester's mapped Kubernetes identity being allowed `get pods`
 * and `get pods/log` in the namespace (SubjectAccessReview).
 */
export async function readAccessProblem(policy: ReadAccessPolicy, ask: AccessQuestion | undefined, request: ReadRequest): Promise<string | undefined> {
  if (policy.mode === 'open') return undefined;
  const granted = policy.channelNamespaces[request.channel] ?? [];
  if (granted.includes('*') || (request.namespace !== undefined && granted.includes(request.namespace))) return undefined;
  const where = request.namespace ? `namespace ${request.namespace}` : 'every namespace';
  const identity = policy.identities[request.requestedBy];
  let missing: string;
  if (!identity) missing = `you have no Kubernetes identity mapped (NETDOCTOR_IDENTITY_MAP)`;
  else if (!ask) missing = `netdoctor has no cluster to ask whether Kubernetes user ${identity.user} may read it`;
  else {
    const denied: string[] = [];
    for (const read of READS) {
      const verdict = await ask({ user: identity.user, groups: identity.groups, verb: read.verb, target: { kind: read.kind, ...(request.namespace ? { namespace: request.namespace } : {}), name: '' }, ...(read.subresource ? { subresource: read.subresource } : {}) });
      if (!verdict.allowed) denied.push(read.words);
    }
    if (denied.length === 0) return undefined;
    missing = `Kubernetes user ${identity.user} may not ${denied.join(' or ')} in ${where}`;
  }
  return `not shown: ${missing}, and this channel is not granted ${where} (NETDOCTOR_CHANNEL_NAMESPACES). Ask an admin for either; nothing from the cluster was read`;
}
