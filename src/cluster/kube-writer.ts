import type { RawObject } from './snapshot';
import { ApiError, type KubeApi } from './kube-api';
import { type Kind, RESOURCES, isKind } from '../domain/kube-types';
import type { ObjectRef } from '../domain/object-ref';
import type { Operation, PatchType } from '../domain/plan';

/** Field manager and user agent of every write, so `managedFields` and audit logs name the bot. */
export const FIELD_MANAGER = 'netdoctor';

const CONTENT_TYPE: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export interface AccessCheck {
  user: string;
  groups: string[];
  verb: string;
  target: ObjectRef;
}

function kindOf(ref: ObjectRef): Kind {
  if (!isKind(ref.kind)) throw new Error(`netdoctor cannot write ${ref.kind} objects`);
  return ref.kind;
}

/** The REST path of one object (or its collection when name is empty). */
export function objectPath(ref: ObjectRef): string {
  const { apiVersion, plural, namespaced } = RESOURCES[kindOf(ref)];
  const base = apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`;
  const ns = namespaced ? `/namespaces/${encodeURIComponent(ref.namespace ?? 'default')}` : '';
  return `${base}${ns}/${plural}${ref.name ? `/${encodeURIComponent(ref.name)}` : ''}`;
}

/** Writes for remediation: every mutation can be a server-side dry run, all under one field manager. */
export class KubeWriter {
  constructor(readonly api: KubeApi) {}

  async read(ref: ObjectRef): Promise<RawObject | undefined> {
    try {
      return await this.api.json<RawObject>(objectPath(ref));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  /** Runs one plan operation; with dryRun the apiserver validates and admits it but persists nothing. */
  async execute(op: Operation, dryRun: boolean): Promise<RawObject> {
    const query = { fieldManager: FIELD_MANAGER, dryRun: dryRun ? 'All' : undefined };
    switch (op.action) {
      case 'patch':
        return this.api.json<RawObject>(objectPath(op.target), {
          method: 'PATCH',
          query,
          body: op.patch,
          contentType: CONTENT_TYPE[op.patchType ?? 'merge'],
        });
      case 'create':
        return this.api.json<RawObject>(objectPath({ ...op.target, name: '' }), { method: 'POST', query, body: op.body });
      case 'delete':
        return this.api.json<RawObject>(objectPath(op.target), {
          method: 'DELETE',
          query: { dryRun: query.dryRun },
          body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: op.resourceVersion ? { resourceVersion: op.resourceVersion } : undefined },
        });
    }
  }

  /** Would the apiserver let this user do it? (SubjectAccessReview: chat never grants more than the cluster would.) */
  async allowed(check: AccessCheck): Promise<{ allowed: boolean; reason: string }> {
    const { apiVersion, plural } = RESOURCES[kindOf(check.target)];
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    const review = await this.api.json<{ status?: { allowed?: boolean; reason?: string; denied?: boolean } }>(
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      {
        method: 'POST',
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: check.user,
            groups: check.groups,
            resourceAttributes: { group, resource: plural, verb: check.verb, namespace: check.target.namespace, name: check.target.name || undefined },
          },
        },
      },
    );
    return { allowed: review.status?.allowed === true, reason: review.status?.reason ?? '' };
  }
}
