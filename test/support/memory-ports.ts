import type { Baseline, BaselineStore } from '../../src/domain/baseline';
// In-memory implementations of the remediation ports (ClusterWriter, ClusterReader, PlanStore,
// RunStore, AuditSink): the use cases run over them in unit tests, with no Redis, BullMQ or apiserver.
import { parseAllDocuments } from 'yaml';
import { ClusterSnapshot } from '../../src/cluster/snapshot';
import type { ClusterReader, ClusterView, ReadScope } from '../../src/domain/cluster-view';
import type { AccessCheck, ClusterWriter } from '../../src/domain/cluster-writer';
import { ApiError } from '../../src/domain/errors';
import type { RawObject } from '../../src/domain/kube-types';
import { type ObjectRef, refLabel } from '../../src/domain/object-ref';
import { type Operation, type PlanState, TRANSITIONS } from '../../src/domain/plan';
import type { Report } from '../../src/domain/report';
import { proposalThread } from '../../src/store/plan-ledger';
import type { AuditEntry, AuditSink, PlanEntry, PlanStore, RunStore, StoredPlan, Transition } from '../../src/domain/stores';

const clone = <T>(v: T): T => structuredClone(v);
const keyOf = (ref: { kind?: string; namespace?: string; name?: string }): string => `${ref.kind ?? ''}/${ref.namespace ?? ''}/${ref.name ?? ''}`;

type PatchOp = { op: 'add' | 'replace' | 'remove' | 'test'; path: string; value?: unknown };

/** RFC 6902 on a copy; a failed `test` is the apiserver's 422 (what a changed object gets). */
function jsonPatch(doc: RawObject, ops: PatchOp[]): RawObject {
  const out = clone(doc) as Record<string, unknown>;
  for (const op of ops) {
    const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop()!;
    const parent = parts.reduce<unknown>((at, k) => (at as Record<string, unknown> | undefined)?.[k], out) as Record<string, unknown> | unknown[] | undefined;
    if (parent === undefined) throw new ApiError(422, 'Invalid', `422 Invalid: path ${op.path} does not exist`);
    const index = Array.isArray(parent) ? (last === '-' ? parent.length : Number(last)) : last;
    const current = (parent as Record<string | number, unknown>)[index];
    if (op.op === 'test' && JSON.stringify(current) !== JSON.stringify(op.value)) throw new ApiError(422, 'Invalid', `422 Invalid: the test of ${op.path} failed`);
    if (op.op === 'replace' || op.op === 'add') {
      if (Array.isArray(parent) && op.op === 'add') parent.splice(index as number, 0, op.value);
      else (parent as Record<string | number, unknown>)[index] = clone(op.value);
    }
    if (op.op === 'remove') {
      if (Array.isArray(parent)) parent.splice(index as number, 1);
      else delete (parent)[index];
    }
  }
  return out;
}

/** RFC 7386 merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const out = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * A cluster held in memory: reads as a ClusterReader (so the real engine and checks run over
 * it), writes as a ClusterWriter with resourceVersions, dry runs and SubjectAccessReviews.
 */
export class MemoryCluster implements ClusterReader, ClusterWriter {
  readonly apiCalls = 0;
  readonly writes: string[] = [];
  private readonly objects = new Map<string, RawObject>();
  private version = 1000;

  /** `verb kind/namespace/name` per Kubernetes user, as a SubjectAccessReview would allow it. */
  constructor(private readonly grants: Record<string, string[]> = {}) {}

  static fromYaml(text: string, grants: Record<string, string[]> = {}): MemoryCluster {
    const cluster = new MemoryCluster(grants);
    for (const doc of parseAllDocuments(text)) {
      const obj = doc.toJS() as RawObject | null;
      if (obj) cluster.objects.set(keyOf({ kind: obj.kind, namespace: obj.metadata?.namespace, name: obj.metadata?.name }), obj);
    }
    return cluster;
  }

  get(ref: ObjectRef): RawObject | undefined {
    return clone(this.objects.get(keyOf(ref)));
  }

  /** Someone else changes the object (a new resourceVersion), as a racing edit would. */
  edit(ref: ObjectRef, change: (obj: RawObject) => void): void {
    const obj = this.get(ref)!;
    change(obj);
    this.store(obj);
  }

  private store(obj: RawObject): RawObject {
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.version) } };
    this.objects.set(keyOf({ kind: stored.kind, namespace: stored.metadata.namespace, name: stored.metadata.name }), stored);
    return clone(stored);
  }

  async read(scope: ReadScope): Promise<ClusterView>;
  async read(ref: ObjectRef): Promise<RawObject | undefined>;
  async read(what: ReadScope | ObjectRef): Promise<ClusterView | RawObject | undefined> {
    if ('kind' in what) return this.get(what);
    return new ClusterSnapshot().addObjects([...this.objects.values()].map(clone));
  }

  async namespaceExists(namespace: string): Promise<boolean> {
    return this.objects.has(keyOf({ kind: 'Namespace', name: namespace }));
  }

  async execute(op: Operation, dryRun: boolean): Promise<RawObject> {
    const current = this.objects.get(keyOf(op.target));
    let next: RawObject;
    if (op.action === 'create') {
      if (current) throw new ApiError(409, 'AlreadyExists', `409 AlreadyExists: ${refLabel(op.target)} already exists`);
      next = clone(op.body ?? {});
    } else {
      if (!current) throw new ApiError(404, 'NotFound', `404 NotFound: ${refLabel(op.target)} not found`);
      if (op.action === 'delete') {
        const meta = current.metadata as { uid?: string; resourceVersion?: string };
        if ((op.uid && op.uid !== meta.uid) || (!op.uid && op.resourceVersion && op.resourceVersion !== meta.resourceVersion)) {
          throw new ApiError(409, 'Conflict', '409 Conflict: Precondition failed');
        }
        if (!dryRun) {
          this.objects.delete(keyOf(op.target));
          this.writes.push(`delete ${refLabel(op.target)}`);
        }
        return clone(current);
      }
      next = op.patchType === 'json' ? jsonPatch(current, op.patch as PatchOp[]) : (mergePatch(current, op.patch) as RawObject);
      const wanted = (next.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
      if (wanted !== (current.metadata as { resourceVersion?: string }).resourceVersion) throw new ApiError(409, 'Conflict', '409 Conflict: the object has been modified');
    }
    if (dryRun) return next;
    this.writes.push(`${op.action} ${refLabel(op.target)}`);
    return this.store(next);
  }

  async allowed(check: AccessCheck): Promise<{ allowed: boolean; reason: string }> {
    const wanted = `${check.verb} ${keyOf(check.target)}${check.subresource ? `/${check.subresource}` : ''}`;
    const allowed = (this.grants[check.user] ?? []).includes(wanted);
    return { allowed, reason: allowed ? '' : `no RBAC rule allows ${wanted}` };
  }
}

/** PlanStore with the ledger's compare-and-set semantics. */
export class MemoryPlanStore implements PlanStore {
  readonly entries = new Map<string, PlanEntry>();
  private static readonly REOPENABLE: PlanState[] = ['expired', 'rejected', 'denied', 'not-applicable', 'conflict'];

  async propose(entry: Omit<PlanEntry, 'state' | 'updatedAt'>, now: Date, state: 'proposed' | 'not-applicable' = 'proposed'): Promise<PlanEntry> {
    const known = this.entries.get(entry.planId);
    const superseded = known?.state === 'proposed' && proposalThread(known) !== proposalThread(entry);
    if (known && !superseded && !MemoryPlanStore.REOPENABLE.includes(known.state)) return clone(known);
    const fresh: PlanEntry = { ...entry, state, updatedAt: now.toISOString() };
    this.entries.set(entry.planId, fresh);
    return clone(fresh);
  }

  async get(_cluster: string, planId: string): Promise<PlanEntry | undefined> {
    const entry = this.entries.get(planId);
    return entry ? clone(entry) : undefined;
  }

  async transition(_cluster: string, planId: string, from: PlanState[], to: PlanState, fields: Partial<PlanEntry>, now: Date): Promise<Transition> {
    const legal = from.filter((s) => TRANSITIONS[s].includes(to));
    if (legal.length === 0) throw new Error(`no transition from ${from.join('|')} to ${to}`);
    const entry = this.entries.get(planId);
    if (!entry) return { ok: false, state: 'missing' };
    if (!legal.includes(entry.state)) return { ok: false, state: entry.state };
    const moved: PlanEntry = { ...entry, ...clone(fields), state: to, updatedAt: now.toISOString() };
    this.entries.set(planId, moved);
    return { ok: true, entry: clone(moved) };
  }

  async annotate(_cluster: string, planId: string, fields: Partial<PlanEntry>, now: Date): Promise<PlanEntry | undefined> {
    const entry = this.entries.get(planId);
    if (!entry) return undefined;
    const annotated: PlanEntry = { ...entry, ...clone(fields), state: entry.state, updatedAt: now.toISOString() };
    this.entries.set(planId, annotated);
    return clone(annotated);
  }
}

/** RunStore keeping each report's plans by id, as the Redis store does. */
export class MemoryRunStore implements RunStore {
  private readonly reports = new Map<string, Report>();
  private readonly plans = new Map<string, StoredPlan>();

  async storeReport(cluster: string, runId: string, report: Report, now: Date = new Date()): Promise<void> {
    this.reports.set(runId, clone(report));
    for (const finding of report.findings) {
      if (!finding.plan) continue;
      this.plans.set(finding.plan.id, { plan: clone(finding.plan), cluster, runId, findingId: finding.id, ...(report.target.namespace ? { namespace: report.target.namespace } : {}), storedAt: now.toISOString() });
    }
  }

  async loadReport(_cluster: string, runId: string): Promise<Report | undefined> {
    return clone(this.reports.get(runId));
  }

  async loadPlan(_cluster: string, planId: string): Promise<StoredPlan | undefined> {
    return clone(this.plans.get(planId));
  }

  /** Overwrites a stored plan, as anyone who can write to Redis could. */
  replacePlan(stored: StoredPlan): void {
    this.plans.set(stored.plan.id, clone(stored));
  }
}

export class MemoryAudit implements AuditSink {
  readonly entries: AuditEntry[] = [];

  async append(entry: AuditEntry): Promise<string> {
    this.entries.push(clone(entry));
    return String(this.entries.length);
  }
}

/** Known-good baselines in memory (the Redis one is tested against a real Redis); newest first. */
export class MemoryBaselines implements BaselineStore {
  readonly kept = new Map<string, Baseline[]>();

  latest(cluster: string, namespace: string): Promise<Baseline | undefined> {
    return Promise.resolve(this.kept.get(`${cluster}/${namespace}`)?.[0]);
  }

  save(cluster: string, namespace: string, baseline: Baseline): Promise<boolean> {
    this.kept.set(`${cluster}/${namespace}`, [baseline, ...(this.kept.get(`${cluster}/${namespace}`) ?? [])]);
    return Promise.resolve(true);
  }
}
