import type { RawObject } from './kube-types';
import type { ObjectRef } from './object-ref';
import type { Operation } from './plan';

/** A SubjectAccessReview question: may this Kubernetes identity do this verb on this object? */
export interface AccessCheck {
  user: string;
  groups: string[];
  verb: string;
  target: ObjectRef;
  /** e.g. `log` for pods/log. */
  subresource?: string;
}

/** Writes for remediation (implemented over the apiserver by cluster/kube-writer). */
export interface ClusterWriter {
  /** The object as stored now, or undefined when it does not exist. */
  read(ref: ObjectRef): Promise<RawObject | undefined>;
  /** Runs one plan operation; with dryRun the apiserver validates and admits it but persists nothing. */
  execute(op: Operation, dryRun: boolean): Promise<RawObject>;
  /** Would the apiserver let this identity do it? (Chat never grants more than the cluster would.) */
  allowed(check: AccessCheck): Promise<{ allowed: boolean; reason: string }>;
}

/** A writer for one cluster; `close` (when present) is called when done with it. */
export type LeasedWriter = ClusterWriter & { close?(): void };
export type WriterFactory = (cluster: string) => Promise<LeasedWriter> | LeasedWriter;
