// The remediation use cases end to end over in-memory ports: the real engine diagnoses the
// svc-target-port scenario, the plan is dry-run and proposed, a click decides it, and
// runRemediation applies, audits, verifies (the real check re-run) and rolls back. No Redis, no BullMQ.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKS } from '../../../src/checks';
import { RecordingSurface } from '../../../src/cli/console-surface';
import { NetdoctorError } from '../../../src/domain/errors';
import type { Plan } from '../../../src/domain/plan';
import type { PlanClick, RemediationRequest } from '../../../src/domain/ports';
import { silentLogger } from '../../../src/domain/run-context';
import { diagnose } from '../../../src/engine/diagnose';
import { proposeAgain, recheckPlan } from '../../../src/engine/recheck';
import { loadWorkflows, pickWorkflow } from '../../../src/engine/workflow';
import type { ApprovalPolicy } from '../../../src/remediation/approval';
import { PlanSealer } from '../../../src/remediation/plan-seal';
import type { RawObject } from '../../../src/domain/kube-types';
import { type DecisionDeps, decidePlan } from '../../../src/remediation/decide-plan';
import { proposePlans } from '../../../src/remediation/propose-plans';
import { type RemediationDeps, runRemediation } from '../../../src/remediation/run-remediation';
import { MemoryAudit, MemoryCluster, MemoryPlanStore, MemoryRunStore } from '../../support/memory-ports';
import { REPO_SCENARIO_DIR } from '../../support/scenarios';

const CLUSTER = 'lab';
const MYSQL = { kind: 'Service', namespace: 'triton', name: 'mysql' };
const policy: ApprovalPolicy = { users: ['UBOB', 'UCAROL'], groups: [], allowSelfApproval: false, validityMs: 15 * 60_000, identities: { UBOB: { user: 'bob', groups: [] }, UCAROL: { user: 'carol', groups: [] } }, sealer: new PlanSealer('plan-key-'.repeat(4)) };
const request = { cluster: CLUSTER, namespace: 'triton', workflow: 'namespace-triage', requestedBy: 'UALICE', channel: 'C1', parentTs: '1700000000.000001' };
const targetPortOf = (cluster: MemoryCluster): unknown => (cluster.get(MYSQL)?.spec as { ports: { targetPort: unknown }[] }).ports[0]!.targetPort;

interface World {
  cluster: MemoryCluster;
  ledger: MemoryPlanStore;
  store: MemoryRunStore;
  audit: MemoryAudit;
  refusals: MemoryAudit;
  /** Moves the clock on (the plan's validity runs out). */
  advance(ms: number): void;
  /** Another /netdoctor of the same namespace, by someone else in another thread. */
  rediagnose(by: { requestedBy: string; channel: string; parentTs: string }): Promise<void>;
  surface: RecordingSurface;
  queued: RemediationRequest[];
  plan: Plan;
  decide(action: PlanClick['action'], user?: string, thread?: { channel: string; parentTs: string }): ReturnType<typeof decidePlan>;
  remediate(job: RemediationRequest): ReturnType<typeof runRemediation>;
}

async function world(grants: Record<string, string[]> = { bob: ['patch Service/triton/mysql'] }, options: { before?: (cluster: MemoryCluster) => void; workerPolicy?: ApprovalPolicy } = {}): Promise<World> {
  const cluster = MemoryCluster.fromYaml(readFileSync(join(REPO_SCENARIO_DIR, 'svc-target-port', 'objects.yaml'), 'utf8'), grants);
  options.before?.(cluster);
  let now = new Date('2026-11-30T10:00:00Z');
  const clock = (): Date => (now = new Date(now.getTime() + 1000));
  const ledger = new MemoryPlanStore();
  const store = new MemoryRunStore();
  const audit = new MemoryAudit();
  const refusals = new MemoryAudit();
  const surface = new RecordingSurface();
  const queued: RemediationRequest[] = [];
  let runs = 0;
  const diagnoseAndPropose = async (req: typeof request): Promise<Plan> => {
    const runId = `run-${++runs}`;
    const report = await diagnose({ runId, log: silentLogger, clock }, cluster, pickWorkflow(loadWorkflows(CHECKS), 'namespace-triage'), { cluster: CLUSTER, namespace: 'triton' });
    await store.storeReport(CLUSTER, runId, report, clock());
    await proposePlans({ writerFor: () => cluster, ledger, policy, clock, log: silentLogger }, req, report);
    return report.findings.find((f) => f.plan?.verify.check === 'service-target-port')!.plan!;
  };
  const plan = await diagnoseAndPropose(request);
  const decisions: DecisionDeps = { ledger, loadPlan: (c, id) => store.loadPlan(c, id), enqueue: async (job) => (queued.push(job), { jobId: String(queued.length) }), surface, audit, refusals, policy, clock, log: silentLogger };
  const checkDeps = { cluster: CLUSTER, readerFor: () => cluster, log: silentLogger, clock };
  const remediation: RemediationDeps = {
    cluster: CLUSTER,
    writerFor: () => cluster,
    recheck: (p, namespace) => recheckPlan(checkDeps, p, namespace),
    proposeAgain: (p, namespace) => proposeAgain(checkDeps, p, namespace),
    ledger,
    store,
    audit,
    surface,
    policy: options.workerPolicy ?? policy,
    verifyTimeoutMs: 5_000,
    log: silentLogger,
    clock,
  };
  return {
    cluster, ledger, store, audit, refusals, surface, queued, plan,
    advance: (ms) => {
      now = new Date(now.getTime() + ms);
    },
    rediagnose: async (by) => {
      await diagnoseAndPropose({ ...request, ...by });
    },
    decide: (action, user = 'UBOB', thread = { channel: 'C1', parentTs: request.parentTs }) =>
      decidePlan(decisions, { action, planId: plan.id, cluster: CLUSTER, user, userGroups: [], message: { channel: thread.channel, messageTs: '1700000000.000002', parentTs: thread.parentTs } }),
    remediate: (job) => runRemediation(remediation, job, silentLogger),
  };
}

describe('runRemediation over in-memory ports', () => {
  it('applies an approved plan once, audits it, verifies with the real check and rolls it back', async () => {
    const w = await world();
    expect(targetPortOf(w.cluster)).toBe(8080);
    expect(await w.decide('approve')).toMatchObject({ accepted: true });
    expect(w.queued).toEqual([expect.objectContaining({ planId: w.plan.id, action: 'apply', approvedBy: 'UBOB' })]);
    // A second approver finds it decided: refused, and the chat surface is told who decided.
    expect(await w.decide('approve', 'UCAROL')).toEqual({ accepted: false, message: 'the plan is already approved', decidedBy: 'UBOB' });
    expect(w.queued).toHaveLength(1);

    expect(await w.remediate(w.queued[0]!)).toEqual({ state: 'applied', verdict: 'fixed' });
    expect(targetPortOf(w.cluster)).toBe(3306);
    expect(w.cluster.writes).toEqual(['patch service/mysql -n triton']);
    expect((await w.ledger.get(CLUSTER, w.plan.id))?.result).toMatchObject({ outcome: 'applied', verdict: { status: 'fixed' } });
    expect(w.audit.entries.map((e) => e.event)).toEqual(['approved', 'applied', 'verified']);
    expect(w.surface.of('showPlanState').at(-1)?.view).toMatchObject({ state: 'applied', rollbackAvailable: true, detail: expect.stringMatching(/fixed — service-target-port no longer fires/) });
    // Every step edits the plan's message; the thread hears once, the final verdict.
    expect(w.surface.of('showPlanState').map((c) => [c.view.state, c.view.verdict])).toEqual([['approved', undefined], ['applied', 'pending'], ['applied', 'fixed']]);
    expect(w.surface.of('postToThread').map((c) => c.text)).toEqual([expect.stringMatching(/: applied: .*; fixed — /)]);

    // A second run of the same job finds the plan applied, not approved: nothing is written twice.
    await expect(w.remediate(w.queued[0]!)).rejects.toThrow(new NetdoctorError('plan_unavailable', `plan ${w.plan.id} is applied, not approved`));

    expect(await w.decide('rollback')).toMatchObject({ accepted: true });
    expect(await w.remediate(w.queued[1]!)).toEqual({ state: 'rolled-back' });
    expect(targetPortOf(w.cluster)).toBe(8080);
    expect(w.audit.entries.map((e) => e.event)).toEqual(['approved', 'applied', 'verified', 'approved', 'rolled-back']);
  });

  it('refuses an approver the cluster would not allow, and changes nothing', async () => {
    const w = await world({ bob: [] });
    await w.decide('approve');
    expect(await w.remediate(w.queued[0]!)).toEqual({ state: 'denied' });
    expect(w.cluster.writes).toEqual([]);
    expect(w.audit.entries.at(-1)).toMatchObject({ event: 'denied', reason: expect.stringMatching(/Kubernetes user bob may not patch service\/mysql -n triton \(no RBAC rule/) });
    expect(w.surface.of('postToThread').at(-1)?.text).toMatch(/refused: .*nothing was changed/);
  });

  it('refuses an approver without a Kubernetes identity (on the worker) before any write', async () => {
    const w = await world(undefined, { workerPolicy: { ...policy, identities: {} } });
    await w.decide('approve');
    expect(await w.remediate(w.queued[0]!)).toEqual({ state: 'denied' });
    expect(w.cluster.writes).toEqual([]);
    expect(w.audit.entries.at(-1)?.reason).toMatch(/no Kubernetes identity mapped/);
  });

  it('audits the Kubernetes identity the apiserver was asked about', async () => {
    const w = await world({ bob: [] });
    await w.decide('approve');
    await w.remediate(w.queued[0]!);
    expect(w.audit.entries.map((e) => [e.event, e.kubeIdentity])).toEqual([['approved', 'bob'], ['denied', 'bob']]);
  });

  it('ends in conflict when the object changed after the dry run: the check, re-run, proposes another plan', async () => {
    const w = await world();
    await w.decide('approve');
    w.cluster.edit(MYSQL, (svc) => ((svc.spec as { ports: { targetPort: unknown }[] }).ports[0]!.targetPort = 3308));
    expect(await w.remediate(w.queued[0]!)).toEqual({ state: 'conflict' });
    expect(targetPortOf(w.cluster)).toBe(3308);
    expect(w.cluster.writes).toEqual([]);
    expect(w.surface.of('postToThread').at(-1)?.text).toMatch(/refused: the cluster changed since the plan: service-target-port now proposes a different change\. Run \/netdoctor again/);
  });

  it('ends in conflict when the fault is gone by the time of the apply (the check no longer proposes the plan)', async () => {
    const w = await world();
    await w.decide('approve');
    // Fixed by hand, and the port renamed so nothing else matches: a write now would be a blind one.
    w.cluster.edit(MYSQL, (svc) => ((svc.spec as { ports: { targetPort: unknown }[] }).ports[0]!.targetPort = 3306));
    expect(await w.remediate(w.queued[0]!)).toEqual({ state: 'conflict' });
    expect(w.cluster.writes).toEqual([]);
    expect(w.audit.entries.at(-1)).toMatchObject({ event: 'conflict', reason: expect.stringMatching(/no longer proposes it/) });
  });

  it('refuses a plan it does not know with plan_unavailable', async () => {
    const w = await world();
    const refusal = w.remediate({ cluster: CLUSTER, planId: 'plan-0000000000000000', action: 'apply', approvedBy: 'UBOB', channel: 'C1' });
    await expect(refusal).rejects.toBeInstanceOf(NetdoctorError);
    await expect(refusal).rejects.toMatchObject({ code: 'plan_unavailable' });
    expect(w.cluster.writes).toEqual([]);
  });

  it('marks an approval after the validity window as expired (a typed refusal, not a message match)', async () => {
    const w = await world();
    const entry = w.ledger.entries.get(w.plan.id)!;
    w.ledger.entries.set(w.plan.id, { ...entry, dryRunAt: '2026-11-30T09:00:00Z' });
    expect(await w.decide('approve')).toEqual({ accepted: false, message: expect.stringMatching(/expired/) });
    expect((await w.ledger.get(CLUSTER, w.plan.id))?.state).toBe('expired');
    expect(w.queued).toEqual([]);
  });

  it('rechecks the expiry in the worker: an approval queued in time but run after the plan expired writes nothing', async () => {
    const w = await world();
    expect(await w.decide('approve')).toMatchObject({ accepted: true });
    w.advance(16 * 60_000);
    expect(await w.remediate(w.queued[0]!)).toEqual({ state: 'expired' });
    expect(w.cluster.writes).toEqual([]);
    expect(w.surface.of('postToThread').at(-1)?.text).toMatch(/refused: the plan expired at .* before it could be applied/);
  });
});

/** What someone who can write to Redis (but does not hold the plan key) can try, each before any write. */
describe('runRemediation refuses plans and approvals altered in Redis', () => {
  const refusedWithoutWrite = async (w: World, job: RemediationRequest, why: RegExp, state = 'denied'): Promise<void> => {
    expect(await w.remediate(job)).toEqual({ state });
    expect(w.cluster.writes).toEqual([]);
    expect(w.audit.entries.at(-1)).toMatchObject({ event: 'denied', reason: expect.stringMatching(why) });
    expect(w.surface.of('postToThread').at(-1)?.text).toMatch(/refused: .*altered in Redis.*nothing was changed/);
  };

  it('a stored plan whose operations were changed', async () => {
    const w = await world();
    await w.decide('approve');
    const stored = (await w.store.loadPlan(CLUSTER, w.plan.id))!;
    const op = stored.plan.operations[0]!;
    // Same target, another value: the id still matches, the seal does not.
    w.store.replacePlan({ ...stored, plan: { ...stored.plan, operations: [{ ...op, patch: JSON.parse(JSON.stringify(op.patch).replace('3306', '22')) as unknown }] } });
    await refusedWithoutWrite(w, w.queued[0]!, /stored plan does not match/);
    expect(targetPortOf(w.cluster)).toBe(8080);
  });

  it('a plan moved to another thread or requester, or with a longer validity', async () => {
    for (const change of [{ requestedBy: 'UMALLORY' }, { channel: 'C2' }, { expiresAt: '2030-01-01T00:00:00.000Z' }]) {
      const w = await world();
      await w.decide('approve');
      const entry = w.ledger.entries.get(w.plan.id)!;
      w.ledger.entries.set(w.plan.id, { ...entry, ...change });
      await refusedWithoutWrite(w, { ...w.queued[0]!, ...('channel' in change ? { channel: change.channel } : {}) }, /stored plan does not match/);
    }
  });

  it('an approval nobody made: the state set to approved in Redis, or a job naming another approver', async () => {
    const w = await world();
    const entry = w.ledger.entries.get(w.plan.id)!;
    w.ledger.entries.set(w.plan.id, { ...entry, state: 'approved', decidedBy: 'UBOB', decidedAt: entry.dryRunAt });
    await refusedWithoutWrite(w, { cluster: CLUSTER, planId: w.plan.id, action: 'apply', approvedBy: 'UBOB', channel: 'C1', parentTs: request.parentTs }, /approval does not match a decision/);

    const v = await world({ bob: ['patch Service/triton/mysql'], carol: ['patch Service/triton/mysql'] });
    await v.decide('approve', 'UCAROL');
    await refusedWithoutWrite(v, { ...v.queued[0]!, approvedBy: 'UBOB' }, /approval does not match a decision/);
  });

  it('keeps the rollback data sealed: no credential of the prior object in Redis in clear, and altered data is refused', async () => {
    const secret = 'postgres://app:s3cr3t-in-an-annotation@db:5432';
    const w = await world(undefined, { before: (c) => c.edit(MYSQL, (svc) => void ((svc.metadata as RawObject['metadata'] & object).annotations = { 'example.com/dsn': secret })) });
    await w.decide('approve');
    expect(await w.remediate(w.queued[0]!)).toMatchObject({ state: 'applied' });
    const stored = JSON.stringify(w.ledger.entries.get(w.plan.id));
    expect(stored).not.toContain('s3cr3t');
    expect(stored).not.toContain('"before"');

    const entry = w.ledger.entries.get(w.plan.id)!;
    const sealed = entry.result!.sealedChanges!;
    w.ledger.entries.set(w.plan.id, { ...entry, result: { ...entry.result!, sealedChanges: `${sealed.slice(0, -4)}AAAA` } });
    expect(await w.decide('rollback')).toMatchObject({ accepted: true });
    const writes = [...w.cluster.writes];
    expect(await w.remediate(w.queued[1]!)).toEqual({ state: 'applied' });
    expect(w.cluster.writes).toEqual(writes);
    expect(w.audit.entries.at(-1)).toMatchObject({ event: 'denied', reason: expect.stringMatching(/rollback data does not match/) });
  });
});

describe('decisions are bound to the requester, the thread and the approvers', () => {
  it('a newer diagnosis elsewhere re-proposes the plan; the old thread can no longer decide it, and the new requester cannot approve their own', async () => {
    const w = await world({ bob: ['patch Service/triton/mysql'] });
    await w.rediagnose({ requestedBy: 'UBOB', channel: 'C2', parentTs: '1700000001.000001' });
    expect(w.ledger.entries.get(w.plan.id)).toMatchObject({ state: 'proposed', requestedBy: 'UBOB', channel: 'C2' });
    expect(await w.decide('approve', 'UBOB')).toMatchObject({ accepted: false, message: expect.stringMatching(/belongs to a newer diagnosis in another thread/) });
    expect(await w.decide('approve', 'UBOB', { channel: 'C2', parentTs: '1700000001.000001' })).toMatchObject({ accepted: false, message: expect.stringMatching(/cannot approve its fix/) });
    expect(w.queued).toEqual([]);
  });

  it('records refused clicks apart from the audit stream, so they cannot push decisions out of it', async () => {
    const w = await world();
    for (let i = 0; i < 5; i++) expect(await w.decide('approve', 'UNOBODY')).toMatchObject({ accepted: false });
    expect(w.audit.entries).toEqual([]);
    expect(w.refusals.entries).toHaveLength(5);
    expect(w.refusals.entries[0]).toMatchObject({ event: 'denied', actor: 'UNOBODY', reason: expect.stringMatching(/not a configured approver/) });
  });

  it('rollback: a non-approver (even the requester) is refused; another approver the cluster allows rolls back', async () => {
    const w = await world({ bob: ['patch Service/triton/mysql'], carol: ['patch Service/triton/mysql'] });
    await w.decide('approve');
    await w.remediate(w.queued[0]!);
    expect(targetPortOf(w.cluster)).toBe(3306);
    expect(await w.decide('rollback', 'UNOBODY')).toMatchObject({ accepted: false, message: expect.stringMatching(/not a configured approver/) });
    expect(await w.decide('rollback', 'UALICE')).toMatchObject({ accepted: false, message: expect.stringMatching(/not a configured approver/) });
    expect(w.queued).toHaveLength(1);
    expect(targetPortOf(w.cluster)).toBe(3306);
    expect(await w.decide('rollback', 'UCAROL')).toMatchObject({ accepted: true });
    expect(await w.remediate(w.queued[1]!)).toEqual({ state: 'rolled-back' });
    expect(targetPortOf(w.cluster)).toBe(8080);
  });
});
