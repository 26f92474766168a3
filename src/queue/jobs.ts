import { UnrecoverableError } from 'bullmq';
import { DNS_LABEL } from '../domain/object-ref';
import { PLAN_ID } from '../domain/plan';
import type { DiagnoseRequest, RemediationRequest } from '../domain/ports';

/** The three queues every cluster has. */
export type QueueKind = 'diagnose' | 'remediate' | 'digest';
export const QUEUE_KINDS: readonly QueueKind[] = ['diagnose', 'remediate', 'digest'];

/**
 * Where a cluster's queues live. BullMQ forbids `:` in queue names, so the cluster goes into the
 * key prefix: the diagnose queue of prod-eu is `netdoctor:prod-eu:diagnose` in Redis. Under Redis
 * Cluster the prefix is hash-tagged (`{netdoctor:prod-eu}`), as BullMQ requires: each queue's keys
 * share a slot, the same slot as the cluster's data (store/keys.ts).
 */
export interface QueueAddress {
  name: QueueKind;
  prefix: string;
}

export function queueAddress(queuePrefix: string, cluster: string, kind: QueueKind, hashTagged = false): QueueAddress {
  return { name: kind, prefix: hashTagged ? `{${queuePrefix}:${cluster}}` : `${queuePrefix}:${cluster}` };
}

/** The logical name operators see (`netdoctor:prod-eu:diagnose`). */
export function queueLabel(address: QueueAddress): string {
  return `${address.prefix}:${address.name}`;
}

/** A diagnose job's data: the request, ids and names only (job data sits in Redis in clear text). */
export type DiagnoseJob = DiagnoseRequest;

/** A remediate job's data (ids only: job data sits in Redis in clear text). */
export type RemediateJob = RemediationRequest;

/** A digest job's data. Scheduled jobs are guarded to one per day; manual ones always run. */
export interface DigestJob {
  cluster: string;
  manual?: boolean;
  /** Overrides the configured digest channel (e.g. `/netdoctor digest` posts where it was typed). */
  channel?: string;
  requestedBy?: string;
}

/** What a diagnose job returns (kept on the completed job). */
export interface DiagnoseResult {
  runId: string;
  parentTs: string;
  verdict: string;
  findings: number;
}

/** What the worker keeps in job.progress, so a retried or recovered job neither re-posts nor re-opens. */
export interface RunProgress {
  stage: 'reading' | 'analysing' | 'done' | 'failed' | 'queued';
  parentTs?: string;
  channel?: string;
  published?: boolean;
}

// ---- validation (the worker trusts nothing it reads from Redis) ---------------------------

const WORKFLOW = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SLACK_ID = /^[A-Za-z0-9#._-]{1,80}$/;
const SLACK_TS = /^\d{1,12}\.\d{1,8}$/;

/** Why a payload is unusable; becomes the failed job's reason. */
export class BadJobData extends UnrecoverableError {
  constructor(reason: string) {
    super(`bad job data: ${reason}`);
    this.name = 'BadJobData';
  }
}

function record(data: unknown): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new BadJobData('expected an object');
  return data as Record<string, unknown>;
}

function field(d: Record<string, unknown>, key: string, pattern: RegExp, what: string, required: boolean): string | undefined {
  const v = d[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw new BadJobData(`\`${key}\` is missing`);
    return undefined;
  }
  if (typeof v !== 'string' || !pattern.test(v)) throw new BadJobData(`\`${key}\` must be ${what}`);
  return v;
}

/** The job's cluster must be the one this worker serves (queues are per cluster). */
function clusterOf(d: Record<string, unknown>, served: string): string {
  const cluster = field(d, 'cluster', DNS_LABEL, 'a cluster name (DNS label)', true)!;
  if (cluster !== served) throw new BadJobData(`unknown cluster "${cluster}": this worker serves cluster "${served}"`);
  return cluster;
}

/** Validates a diagnose payload (from Redis, so possibly from anyone who can write there). */
export function parseDiagnoseJob(data: unknown, servedCluster: string): DiagnoseJob {
  const d = record(data);
  const job: DiagnoseJob = {
    cluster: clusterOf(d, servedCluster),
    workflow: field(d, 'workflow', WORKFLOW, 'a workflow name', true)!,
    requestedBy: field(d, 'requestedBy', SLACK_ID, 'a user id', true)!,
    channel: field(d, 'channel', SLACK_ID, 'a channel id', true)!,
  };
  const namespace = field(d, 'namespace', DNS_LABEL, 'a namespace name (DNS label)', false);
  const parentTs = field(d, 'parentTs', SLACK_TS, 'a Slack message ts', false);
  if (namespace) job.namespace = namespace;
  if (parentTs) job.parentTs = parentTs;
  return job;
}

export function parseDigestJob(data: unknown, servedCluster: string): DigestJob {
  const d = record(data);
  const job: DigestJob = { cluster: clusterOf(d, servedCluster) };
  if (d.manual !== undefined && typeof d.manual !== 'boolean') throw new BadJobData('`manual` must be a boolean');
  if (d.manual) job.manual = true;
  const channel = field(d, 'channel', SLACK_ID, 'a channel id', false);
  const requestedBy = field(d, 'requestedBy', SLACK_ID, 'a user id', false);
  if (channel) job.channel = channel;
  if (requestedBy) job.requestedBy = requestedBy;
  return job;
}

export function parseRemediateJob(data: unknown, servedCluster: string): RemediateJob {
  const d = record(data);
  const job: RemediateJob = {
    cluster: clusterOf(d, servedCluster),
    planId: field(d, 'planId', PLAN_ID, 'a plan id', true)!,
    action: field(d, 'action', /^(apply|rollback)$/, 'apply or rollback', true) as RemediateJob['action'],
    approvedBy: field(d, 'approvedBy', SLACK_ID, 'a user id', true)!,
    channel: field(d, 'channel', SLACK_ID, 'a channel id', true)!,
  };
  const parentTs = field(d, 'parentTs', SLACK_TS, 'a Slack message ts', false);
  if (parentTs) job.parentTs = parentTs;
  const messageTs = field(d, 'messageTs', SLACK_TS, 'a Slack message ts', false);
  if (messageTs) job.messageTs = messageTs;
  return job;
}

/** Producer-side check of a request: the same rules, reported as a user error. */
export function requestProblem(request: DiagnoseRequest): string | undefined {
  try {
    parseDiagnoseJob(request, request.cluster);
    return undefined;
  } catch (e) {
    return (e as Error).message.replace(/^bad job data: /, '');
  }
}

/** The key that makes identical requests join one in-flight run: cluster, namespace (or all), workflow. */
export function runKey(request: Pick<DiagnoseRequest, 'cluster' | 'namespace' | 'workflow'>): string {
  return `${request.cluster}.${request.namespace ?? '_all'}.${request.workflow}`;
}

/** A job id from a caller's idempotency key (e.g. Slack's trigger id): no `:`, never all digits. */
export function jobIdFrom(kind: QueueKind, key: string): string {
  return `${kind}-${key.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100)}`;
}
