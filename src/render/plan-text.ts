import type { Operation, Plan } from '../domain/plan';
import { refLabel, shellWord } from '../domain/object-ref';

const PATCH_FLAG: Record<string, string> = { json: 'json', merge: 'merge', strategic: 'strategic' };

/** The kubectl a human would run to make the same change by hand. */
export function operationCommand(op: Operation): string {
  const { kind, name, namespace } = op.target;
  const ns = namespace ? ` -n ${shellWord(namespace)}` : '';
  switch (op.action) {
    case 'patch':
      return `kubectl patch ${kind.toLowerCase()} ${shellWord(name)}${ns} --type=${PATCH_FLAG[op.patchType ?? 'merge']} -p ${shellWord(JSON.stringify(op.patch))}`;
    case 'create':
      return `kubectl create${ns} -f - <<'EOF'\n${JSON.stringify(op.body, null, 2)}\nEOF`;
    case 'delete':
      return `kubectl delete ${kind.toLowerCase()} ${shellWord(name)}${ns}`;
  }
}

/**
 * The operation without its JSON-patch `test` guards: the short form a human types after looking
 * at the object (the guarded form, applied by netdoctor, is in the reports).
 */
export function unguarded(op: Operation): Operation {
  if (op.action !== 'patch' || op.patchType !== 'json' || !Array.isArray(op.patch)) return op;
  return { ...op, patch: (op.patch as { op: string }[]).filter((p) => p.op !== 'test') };
}

/** A readable line per JSON-patch op, or the patch body, for reports. */
export function operationLines(op: Operation): string[] {
  const head = `${op.action} ${refLabel(op.target)}${op.resourceVersion ? ` (at resourceVersion ${op.resourceVersion})` : ''}`;
  if (op.action === 'patch' && op.patchType === 'json' && Array.isArray(op.patch)) {
    const ops = (op.patch as { op: string; path: string; value?: unknown }[]).map(
      (p) => `  ${p.op.padEnd(7)} ${p.path}${p.value !== undefined ? ` = ${JSON.stringify(p.value)}` : ''}`,
    );
    return [head, ...ops];
  }
  const body = op.action === 'create' ? op.body : op.patch;
  return [head, ...(body === undefined ? [] : JSON.stringify(body, null, 2).split('\n').map((l) => `  ${l}`))];
}

export function planHeadline(plan: Plan): string {
  return `${plan.summary} (plan ${plan.id}, risk ${plan.risk})`;
}
