import type { ClusterWriter } from '../domain/cluster-writer';
import type { RawObject } from '../domain/kube-types';
import { refLabel } from '../domain/object-ref';
import type { Plan, PlanVerdict } from '../domain/plan';

export interface VerifyOptions {
  timeoutMs: number;
  pollMs?: number;
  /** Re-runs the plan's originating check on a fresh read; resolves to what still fires (empty: fixed). */
  recheck: () => Promise<string[]>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

interface WorkloadStatus {
  observedGeneration?: number;
  desiredNumberScheduled?: number;
  updatedNumberScheduled?: number;
  numberAvailable?: number;
  replicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
}

/** Whether a DaemonSet/Deployment finished rolling out its current generation, and what is pending if not. */
export function rolloutPending(obj: RawObject | undefined): string | undefined {
  if (!obj) return 'the object is gone';
  const generation = (obj.metadata as { generation?: number } | undefined)?.generation ?? 0;
  const s = (obj.status ?? {}) as WorkloadStatus;
  if ((s.observedGeneration ?? 0) < generation) return `generation ${generation} not yet observed by its controller`;
  if (obj.kind === 'DaemonSet') {
    const want = s.desiredNumberScheduled ?? 0;
    if ((s.updatedNumberScheduled ?? 0) < want) return `${s.updatedNumberScheduled ?? 0}/${want} pods updated`;
    if ((s.numberAvailable ?? 0) < want) return `${s.numberAvailable ?? 0}/${want} pods available`;
  } else {
    const want = (obj.spec as { replicas?: number } | undefined)?.replicas ?? 1;
    if ((s.updatedReplicas ?? 0) < want) return `${s.updatedReplicas ?? 0}/${want} replicas updated`;
    if ((s.availableReplicas ?? 0) < want) return `${s.availableReplicas ?? 0}/${want} replicas available`;
  }
  return undefined;
}

/**
 * Waits (bounded) for the plan's effect: the rollout to finish where one is expected, then the
 * originating check to stop firing. A timeout is "unverified", never "fixed".
 */
export async function verifyPlan(writer: ClusterWriter, plan: Plan, options: VerifyOptions): Promise<PlanVerdict> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  const subject = plan.verify.subject;
  let pending: string | undefined = 'not checked yet';
  let still: string[] = [];
  while (now() <= deadline) {
    pending = plan.verify.waitFor === 'rollout' ? rolloutPending(await writer.read(subject)) : undefined;
    if (!pending) {
      still = await options.recheck();
      if (still.length === 0) return { status: 'fixed', detail: `${plan.verify.check} no longer fires on ${refLabel(subject)}` };
    }
    await sleep(options.pollMs ?? 1000);
  }
  if (pending) return { status: 'unverified', detail: `timed out waiting for ${refLabel(subject)}: ${pending}` };
  return { status: 'not-fixed', detail: `${plan.verify.check} still fires after the change`, stillFailing: still };
}
