import { stringify } from 'yaml';
import type { RawObject } from '../domain/kube-types';

/** Server-set fields that change on every write and say nothing about the change itself. */
const VOLATILE_METADATA = ['resourceVersion', 'generation', 'managedFields', 'creationTimestamp', 'uid', 'selfLink'];

/** The part of an object a human reviews: everything but status and server bookkeeping. */
export function reviewable(obj: RawObject | undefined): Record<string, unknown> {
  if (!obj) return {};
  const { status: _status, metadata, ...rest } = obj;
  const meta: Record<string, unknown> = Object.fromEntries(Object.entries(metadata ?? {}).filter(([key]) => !VOLATILE_METADATA.includes(key)));
  const annotations = { ...((meta.annotations as Record<string, string> | undefined) ?? {}) };
  delete annotations['deprecated.daemonset.template.generation'];
  meta.annotations = Object.keys(annotations).length > 0 ? annotations : undefined;
  return { ...rest, metadata: meta };
}

type Edit = { kind: ' ' | '-' | '+'; line: string };

/** Line edits by longest common subsequence (objects are small; O(n·m) is fine). */
function lineEdits(a: string[], b: string[]): Edit[] {
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const edits: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      edits.push({ kind: ' ', line: a[i++]! });
      j++;
    } else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) edits.push({ kind: '-', line: a[i++]! });
    else edits.push({ kind: '+', line: b[j++]! });
  }
  return edits;
}

/**
 * A kubectl-diff style unified diff of two versions of an object (before vs the server's
 * dry-run result), `context` lines around each change. Empty when nothing reviewable changed.
 */
export function unifiedDiff(before: RawObject | undefined, after: RawObject | undefined, label: string, context = 3): string {
  const a = before ? stringify(reviewable(before)).trimEnd().split('\n') : [];
  const b = after ? stringify(reviewable(after)).trimEnd().split('\n') : [];
  const edits = lineEdits(a, b);
  const changed = edits.map((e, n) => (e.kind !== ' ' ? n : -1)).filter((n) => n >= 0);
  if (changed.length === 0) return '';
  const out = [`--- ${before ? label : '/dev/null'}`, `+++ ${after ? label : '/dev/null'}`];
  let start = 0;
  while (start < changed.length) {
    let end = start;
    while (end + 1 < changed.length && changed[end + 1]! - changed[end]! <= 2 * context) end++;
    const from = Math.max(0, changed[start]! - context);
    const to = Math.min(edits.length - 1, changed[end]! + context);
    const hunk = edits.slice(from, to + 1);
    const aStart = edits.slice(0, from).filter((e) => e.kind !== '+').length + 1;
    const bStart = edits.slice(0, from).filter((e) => e.kind !== '-').length + 1;
    out.push(`@@ -${aStart},${hunk.filter((e) => e.kind !== '+').length} +${bStart},${hunk.filter((e) => e.kind !== '-').length} @@`);
    out.push(...hunk.map((e) => `${e.kind}${e.line}`));
    start = end + 1;
  }
  return out.join('\n');
}
