import { ApiError } from '../domain/errors';
import type { KubeApi } from './kube-api';
import type { AccessCheck, ClusterWriter } from '../domain/cluster-writer';
import { type RawObject, type ResourceInfo, RESOURCES } from '../domain/kube-types';
import type { ObjectRef } from '../domain/object-ref';
import type { Operation, PatchType } from '../domain/plan';

/** Field manager and user agent of every write, so `managedFields` and audit logs name the bot. */
export const FIELD_MANAGER = 'netdoctor';

const CONTENT_TYPE: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

/**
 * The kinds plans may write: those the checks read (RESOURCES) plus what a CNI manifest holds
 * (cni-not-running installs a missing agent from an operator-supplied manifest). Separate from
 * RESOURCES so the reader does not start listing them. Secrets are never written.
 */
export const WRITABLE_RESOURCES: Readonly<Record<string, ResourceInfo>> = {
  ...RESOURCES,
  ServiceAccount: { apiVersion: 'v1', plural: 'serviceaccounts', namespaced: true },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'clusterroles', namespaced: false },
  ClusterRoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'clusterrolebindings', namespaced: false },
  Role: { apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'roles', namespaced: true },
  RoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', plural: 'rolebindings', namespaced: true },
};

function resourceOf(ref: ObjectRef): ResourceInfo {
  const info = Object.prototype.hasOwnProperty.call(WRITABLE_RESOURCES, ref.kind) ? WRITABLE_RESOURCES[ref.kind] : undefined;
  if (!info) throw new Error(`netdoctor cannot write ${ref.kind} objects`);
  return info;
}

/** The REST path of one object (or its collection when name is empty). */
export function objectPath(ref: ObjectRef): string {
  const { apiVersion, plural, namespaced } = resourceOf(ref);
  const base = apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`;
  const ns = namespaced ? `/namespaces/${encodeURIComponent(ref.namespace ?? 'default')}` : '';
  return `${base}${ns}/${plural}${ref.name ? `/${encodeURIComponent(ref.name)}` : ''}`;
}

/** Writes for remediation: every mutation can be a server-side dry run, all under one field manager. */
export class KubeWriter implements ClusterWriter {
  constructor(readonly api: KubeApi) {}

  async read(ref: ObjectRef): Promise<RawObject | undefined> {
    try {
      return await this.api.json<RawObject>(objectPath(ref));
    } catch (e) {
      if (e instanceof ApiError && e.code === 'not_found') return undefined;
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
          // With a body, the apiserver takes DeleteOptions from it and ignores the query: dryRun must be in the body too.
          body: { kind: 'DeleteOptions', apiVersion: 'v1', dryRun: dryRun ? ['All'] : undefined, preconditions: op.uid || op.resourceVersion ? { uid: op.uid, resourceVersion: op.resourceVersion } : undefined },
        });
    }
  }

  /** Would the apiserver let this user do it? (SubjectAccessReview: chat never grants more than the cluster would.) */
  async allowed(check: AccessCheck): Promise<{ allowed: boolean; reason: string }> {
    const { apiVersion, plural } = resourceOf(check.target);
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
            resourceAttributes: { group, resource: plural, subresource: check.subresource, verb: check.verb, namespace: check.target.namespace, name: check.target.name || undefined },
          },
        },
      },
    );
    return { allowed: review.status?.allowed === true, reason: review.status?.reason ?? '' };
  }
}
