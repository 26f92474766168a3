import type { ClusterView } from './cluster-view';
import type { FindingDraft } from './finding';
import type { Kind } from './kube-types';

/** What a check sees of the run: the view, the target namespace (undefined: cluster-wide) and the clock. */
export interface CheckContext {
  view: ClusterView;
  namespace?: string;
  now: Date;
}

/** One fault detector. Pure over the view: no API calls, no Slack, no queue, no writes. */
export interface Check {
  /** Kebab-case, equal to the file name. */
  readonly id: string;
  /** One line, shown in `netdoctor checks` and `/netdoctor checks`. */
  readonly title: string;
  /** The kinds it reads; the engine fetches the union of all needs in one concurrent round. */
  readonly needs: readonly Kind[];
  run(ctx: CheckContext): FindingDraft[];
}
