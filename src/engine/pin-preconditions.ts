import type { ClusterView } from '../domain/cluster-view';
import type { Kind } from '../domain/kube-types';
import { KINDS } from '../domain/kube-types';
import { type Operation, type Plan, makePlan } from '../domain/plan';

/**
 * A check guards each operation with the resourceVersion it read. Where the object says more
 * precisely what must not change — a spec generation for a patch, the uid for a delete — that
 * guard replaces the resourceVersion, so status churn (a crash-looping pod restarting, its
 * DaemonSet's ready counts) does not void the plan between diagnosis and approval, while a
 * change of the spec or a replaced object still does. The plan id follows the operations.
 */
export function pinPreconditions(plan: Plan, view: ClusterView): Plan {
  const operations = plan.operations.map((op): Operation => {
    if (!op.resourceVersion || !(KINDS as readonly string[]).includes(op.target.kind)) return op;
    const seen = view.get(op.target.kind as Kind, op.target.namespace, op.target.name);
    const meta = seen?.metadata;
    if (!meta || meta.resourceVersion !== op.resourceVersion) return op;
    const { resourceVersion: _rv, ...rest } = op;
    if (op.action === 'patch' && typeof meta.generation === 'number') {
      return { ...rest, generation: meta.generation };
    }
    if (op.action === 'delete' && meta.uid) {
      return { ...rest, uid: meta.uid };
    }
    return op;
  });
  if (operations.every((op, i) => op === plan.operations[i])) return plan;
  const { id: _id, ...fields } = plan;
  return makePlan({ ...fields, operations });
}
