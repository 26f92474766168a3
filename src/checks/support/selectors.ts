import type { V1LabelSelector } from '@kubernetes/client-node';
import type { Wire } from '../../domain/kube-types';

type Labels = Record<string, string> | undefined;

/** A Service-style equality selector; an empty or missing selector selects nothing here (Services without selectors are managed by hand). */
export function selectorMatches(selector: Labels, labels: Labels): boolean {
  const entries = Object.entries(selector ?? {});
  if (entries.length === 0) return false;
  return entries.every(([k, v]) => labels?.[k] === v);
}

/** A metav1.LabelSelector (NetworkPolicy, DaemonSet); an empty selector selects everything. */
export function labelSelectorMatches(selector: Wire<V1LabelSelector> | undefined, labels: Labels): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => l[k] === v);
  return (
    byLabel &&
    (selector.matchExpressions ?? []).every((e) => {
      const has = Object.prototype.hasOwnProperty.call(l, e.key);
      const value = l[e.key];
      switch (e.operator) {
        case 'In':
          return has && (e.values ?? []).includes(value as string);
        case 'NotIn':
          return !has || !(e.values ?? []).includes(value as string);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
        default:
          return false;
      }
    })
  );
}

export function formatSelector(selector: Labels): string {
  return Object.entries(selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
