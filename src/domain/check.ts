import type { ClusterView, NamespacedList } from './cluster-view';
import type { FindingDraft } from './finding';
import type { Kind } from './kube-types';
import type { FieldReads } from './projection';

/** What a check sees of the run: the view, the target namespace (undefined: cluster-wide) and the clock. */
export interface CheckContext {
  view: ClusterView;
  namespace?: string;
  /** The cluster's clock at the read (the view's observedAt; the run's start only when the data tells nothing). */
  now: Date;
}

/** One fault detector. Pure over the view: no API calls, no Slack, no queue, no writes. */
export interface Check {
  /** Kebab-case, equal to the file name. */
  readonly id: string;
  /** One line, shown in `netdoctor checks` and `/netdoctor checks`. */
  readonly title: string;
  /** Every fault code its findings can carry (listed by `netdoctor checks`); the engine rejects any other. */
  readonly codes: readonly string[];
  /** The kinds it reads; the engine fetches the union of all needs in one concurrent round. */
  readonly needs: readonly Kind[];
  /**
   * The fields it reads of each kind (dotted paths, arrays transparent). Readers keep only the union of the run's
   * checks' fields and the engine's, so a field read but not declared is missing: a test records every read.
   */
  readonly reads: FieldReads;
  /** Kinds it reads in a namespace a namespaced run would not read otherwise (listed in the same round). */
  readonly alsoReads?: readonly NamespacedList[];
  /**
   * Namespaced kinds (a subset of needs) it reads from every namespace even on a namespace run, e.g. Services that env
   * vars name in other namespaces: listed cluster-wide in the same round instead of per namespace. Of their objects
   * outside the run's namespaces, readers keep only the fields these checks declare (`reads`), not the engine's.
   */
  readonly needsEverywhere?: readonly Kind[];
  /**
   * Its findings come from cluster-scoped objects and the infrastructure namespaces alone, whatever namespace the run
   * targets (kube-proxy, CoreDNS, Nodes): a cluster-wide run checks namespace by namespace and runs it once, not per
   * namespace. A test holds each such check to it on every scenario.
   */
  readonly infraOnly?: boolean;
  run(ctx: CheckContext): FindingDraft[];
}
