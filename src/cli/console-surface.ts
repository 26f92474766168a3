import type { ChatSurface, DiagnoseRequest, Digest, PlanMessageRef, PlanProposal, PlanStateView, RemediationSurface, RunRef, RunStage } from '../domain/ports';
import type { Report } from '../domain/report';
import { verdictOf } from '../domain/report';
import { renderText } from '../render/text';

export type SurfaceCall =
  | { method: 'openRun'; runId: string; request: DiagnoseRequest; ts: string }
  | { method: 'stage'; runId: string; parentTs: string; stage: RunStage }
  | { method: 'publishReport'; runId: string; parentTs: string; report: Report; proposals: Record<string, PlanProposal> }
  | { method: 'showPlanState'; ref: PlanMessageRef; view: PlanStateView }
  | { method: 'postToThread'; channel: string; parentTs: string; text: string; mention?: string }
  | { method: 'failRun'; runId: string; parentTs: string; reason: string }
  | { method: 'publishDigest'; channel: string; digest: Digest };

export interface RecordingOptions {
  /** Also print each call (the CLI's console surface). */
  print?: (line: string) => void;
  /** Called with each recorded call (e.g. a child process reporting to its test). */
  onRecord?: (call: SurfaceCall) => void;
  /** Prefix of the fake message timestamps, so several recorders (processes) never collide. */
  tsPrefix?: string;
}

/**
 * A ChatSurface that records every call (tests, the CLI). Like the Slack one, openRun is
 * idempotent per runId. `failNext` makes the next call(s) of a method throw, to test retries.
 */
export class RecordingSurface implements ChatSurface, RemediationSurface {
  readonly calls: SurfaceCall[] = [];
  private readonly parents = new Map<string, string>();
  private readonly failures: { method: SurfaceCall['method']; error: Error }[] = [];
  private readonly waiters: { match: (c: SurfaceCall) => boolean; resolve: (c: SurfaceCall) => void }[] = [];
  private seq = 0;

  constructor(private readonly options: RecordingOptions = {}) {}

  /** The next `times` calls of `method` throw `error` (and are not recorded). */
  failNext(method: SurfaceCall['method'], error: Error, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push({ method, error });
  }

  /** Calls of one method (typed). */
  of<M extends SurfaceCall['method']>(method: M): Extract<SurfaceCall, { method: M }>[] {
    return this.calls.filter((c): c is Extract<SurfaceCall, { method: M }> => c.method === method);
  }

  /** Resolves with the first recorded call (past or future) that matches. */
  waitFor(match: (c: SurfaceCall) => boolean): Promise<SurfaceCall> {
    const seen = this.calls.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  private record(call: SurfaceCall): void {
    const i = this.failures.findIndex((f) => f.method === call.method);
    if (i >= 0) throw this.failures.splice(i, 1)[0]!.error;
    this.calls.push(call);
    this.options.print?.(describe(call));
    this.options.onRecord?.(call);
    for (const w of [...this.waiters]) {
      if (w.match(call)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(call);
      }
    }
  }

  async openRun(runId: string, request: DiagnoseRequest): Promise<string> {
    const known = this.parents.get(runId);
    if (known) return known;
    const ts = `${this.options.tsPrefix ?? '1700000000'}.${String(++this.seq).padStart(6, '0')}`;
    this.record({ method: 'openRun', runId, request, ts });
    this.parents.set(runId, ts);
    return ts;
  }

  async stage({ runId, parentTs }: RunRef, stage: RunStage): Promise<void> {
    this.record({ method: 'stage', runId, parentTs, stage });
  }

  async publishReport({ runId, parentTs }: RunRef, report: Report, proposals: Record<string, PlanProposal> = {}): Promise<void> {
    this.record({ method: 'publishReport', runId, parentTs, report, proposals });
  }

  async showPlanState(ref: PlanMessageRef, view: PlanStateView): Promise<void> {
    this.record({ method: 'showPlanState', ref, view });
  }

  async postToThread(channel: string, parentTs: string, text: string, mention?: string): Promise<void> {
    this.record({ method: 'postToThread', channel, parentTs, text, ...(mention ? { mention } : {}) });
  }

  async failRun({ runId, parentTs }: RunRef, reason: string): Promise<void> {
    this.record({ method: 'failRun', runId, parentTs, reason });
  }

  async publishDigest(channel: string, digest: Digest): Promise<void> {
    this.record({ method: 'publishDigest', channel, digest });
  }
}

function describe(call: SurfaceCall): string {
  switch (call.method) {
    case 'openRun':
      return `[${call.runId}] ${call.request.workflow} ${call.request.namespace ?? '(cluster)'} requested by ${call.request.requestedBy}`;
    case 'stage':
      return `[${call.runId}] ${call.stage}`;
    case 'publishReport':
      return `[${call.runId}] ${verdictOf(call.report)}\n${renderText(call.report, { color: false })}`;
    case 'failRun':
      return `[${call.runId}] failed: ${call.reason}`;
    case 'showPlanState':
      return `plan ${call.view.planId} ${call.view.state}${call.view.by ? ` by ${call.view.by}` : ''}: ${call.view.detail ?? ''}`;
    case 'postToThread':
      return `thread ${call.parentTs}: ${call.text}`;
    case 'publishDigest': {
      const d = call.digest;
      return `digest ${d.cluster} ${d.day} → ${call.channel}: ${verdictOf(d.report)}; ${d.newFindings.length} new, ${d.resolved.length} resolved, ${d.persisting.length} persisting`;
    }
  }
}

/** The CLI's surface: prints each step and the rendered report. */
export function consoleSurface(write: (s: string) => void): RecordingSurface {
  return new RecordingSurface({ print: (line) => write(line + '\n'), tsPrefix: String(Math.floor(Date.now() / 1000)) });
}
