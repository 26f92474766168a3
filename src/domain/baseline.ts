import { type ObjectRef, refLabel } from './object-ref';

export const BASELINE_VERSION = 1;
/** The namespace key of cluster-wide snapshots (the digest's, one per day): no namespace can be named so. */
export const CLUSTER_WIDE = '*';

/** One object's networking-deciding fields, keyed by RFC 6901 pointer (the path a restore patch writes). */
export interface BaselineObject {
  ref: ObjectRef & { apiVersion: string };
  fields: Record<string, unknown>;
}

/**
 * The fields that decide networking in one namespace and the plumbing it depends on (kube-proxy,
 * CoreDNS, the CNI agent, their ConfigMaps, Nodes), as they were when a run found them healthy.
 */
export interface Baseline {
  version: typeof BASELINE_VERSION;
  cluster?: string;
  namespace: string;
  /** The cluster's clock at the healthy read. */
  takenAt: string;
  objects: BaselineObject[];
}

/** One networking field that differs from the last healthy baseline, with who wrote it when the cluster says. */
export interface FieldChange {
  ref: ObjectRef;
  /** RFC 6901 pointer into the object. */
  path: string;
  /** Dotted display form, containers by name: `spec.template.spec.containers[web].ports`. */
  field: string;
  /** Display forms of the healthy and current values; undefined: the field is absent. */
  from?: string;
  to?: string;
  /** The field manager of the newest managedFields entry owning the path, and its time. */
  manager?: string;
  at?: string;
}

/** What a report says of the changes since the last healthy run: those no finding explains, listed once. */
export interface ChangesSince {
  /** When the last healthy baseline was taken. */
  since: string;
  unexplained: FieldChange[];
}

/**
 * Known-good baselines per cluster and namespace (Redis in the bot, a dump on disk for the CLI).
 * Losing them only loses history: a run without one goes on without the "changed since" part.
 */
export interface BaselineStore {
  /** The newest healthy baseline, or undefined when none is kept. */
  latest(cluster: string, namespace: string): Promise<Baseline | undefined>;
  /** Keeps a baseline (a bounded history; resolves false when it was too large to keep). */
  save(cluster: string, namespace: string, baseline: Baseline): Promise<boolean>;
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'under a minute';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} d`;
}

export const clockTime = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** "spec.selector changed from name=mysql to name=sql00001 by kubectl-edit at 2026-11-30 10:42 UTC, 3 h after the last healthy run". */
export function changeLine(change: FieldChange, since: string): string {
  const what =
    change.path === ''
      ? `${refLabel(change.ref)} ${change.to ? 'was created' : 'was deleted'}`
      : `${change.field} ${change.from === undefined ? `set to ${change.to}` : change.to === undefined ? `removed (was ${change.from})` : `changed from ${change.from} to ${change.to}`}`;
  const by = change.manager ? ` by ${change.manager}` : '';
  const at = change.at ? ` at ${clockTime(change.at)}` : '';
  const after = change.at && Date.parse(change.at) >= Date.parse(since) ? `, ${duration(Date.parse(change.at) - Date.parse(since))} after the last healthy run` : ` since the last healthy run (${clockTime(since)})`;
  return `${what}${by}${at}${after}`;
}
