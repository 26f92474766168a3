import type { webApi } from '@slack/bolt';
import type { Cluster, Redis } from 'ioredis';
import type { ChatSurface, DiagnoseRequest, Digest, PlanMessageRef, PlanProposal, PlanStateView, RemediationSurface, RunRef, RunStage } from '../domain/ports';
import type { Report } from '../domain/report';
import type { PageRef } from '../domain/page-ref';
import type { Logger } from '../domain/run-context';
import { renderMarkdown } from '../render/markdown';
import { mentionUser, text } from './escape';
import {
  type PlanTarget,
  type SlackMessage,
  deliveryFailureMessage,
  digestMessage,
  noticeMessage,
  planTarget,
  progressMessage,
  rootCauseMessage,
  summaryMessage,
  summaryWithOutcomes,
  withPlanState,
} from './blocks';

type WebClient = webApi.WebClient;

export interface SlackSurfaceOptions {
  client: WebClient;
  redis: Redis | Cluster;
  log: Logger;
  /** Key prefix for what the surface records per run. @defaultValue `{netdoctor}:slack` (hash-tagged: one Redis Cluster slot) */
  prefix?: string;
  /** How long parent ts / reply records live. @defaultValue 7 days */
  ttlSeconds?: number;
  /** How long a second caller waits for another one's post of the same message. @defaultValue 20 s */
  waitMs?: number;
  /** A signed link to a run's or a digest's page; without it messages carry no page links. */
  pageUrl?: (ref: PageRef) => string;
  /** Renders the digest's trend picture (PNG) for upload; without it the digest has no picture. */
  trendPicture?: (digest: Digest) => Promise<Buffer>;
}

/** What a plan's reply needs after the report is gone: the reply as posted, what the plan writes, and which summary line is its cause's. */
interface StoredPlanMessage {
  message: SlackMessage;
  target: PlanTarget;
  cause: number;
}

const STAGE_ORDER: Record<RunStage, number> = { queued: 0, reading: 1, analysing: 2, done: 3, failed: 3 };
/** Link previews of URLs from cluster text would fetch attacker-chosen pages into the channel. */
const NO_UNFURL = { unfurl_links: false, unfurl_media: false } as const;

/**
 * ChatSurface over the Slack Web API. Idempotent per run: the parent ts, each root cause's reply,
 * the attached report and each digest are recorded in Redis, and a short lock makes concurrent
 * callers (a retried job, the front end and a worker) wait for one post instead of posting twice.
 * Rate limits and 5xx are retried by the WebClient (its retryConfig honours Retry-After).
 */
export class SlackSurface implements ChatSurface, RemediationSurface {
  private readonly client: WebClient;
  private readonly redis: Redis | Cluster;
  private readonly log: Logger;
  private readonly prefix: string;
  private readonly ttl: number;
  private readonly waitMs: number;
  private readonly pageUrl: ((ref: PageRef) => string) | undefined;
  private readonly trendPicture: ((digest: Digest) => Promise<Buffer>) | undefined;

  constructor(options: SlackSurfaceOptions) {
    this.client = options.client;
    this.redis = options.redis;
    this.log = options.log;
    this.prefix = options.prefix ?? '{netdoctor}:slack';
    this.ttl = options.ttlSeconds ?? 7 * 24 * 3600;
    this.waitMs = options.waitMs ?? 20_000;
    this.pageUrl = options.pageUrl;
    this.trendPicture = options.trendPicture;
  }

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /** The parent ts recorded for a run, if any (the front end uses it to point joiners at the thread). */
  async parentOf(runId: string): Promise<string | undefined> {
    return (await this.redis.get(this.key('run', runId, 'parent'))) ?? undefined;
  }

  async openRun(runId: string, request: DiagnoseRequest): Promise<string> {
    const key = this.key('run', runId, 'parent');
    if (request.parentTs) {
      await this.redis.set(key, request.parentTs, 'EX', this.ttl, 'NX');
      return (await this.redis.get(key)) ?? request.parentTs;
    }
    const ts = await this.once(key, async () => {
      const res = await slackCall('the parent message', () =>
        this.client.chat.postMessage({ channel: request.channel, ...body(progressMessage(request, 'queued')), ...NO_UNFURL }),
      );
      return res.ts!;
    });
    if (!ts) throw new SlackDeliveryError(`run ${runId}: another process is posting the parent message and has not finished`, true);
    await this.redis.set(this.key('run', runId, 'stage'), 'queued', 'EX', this.ttl, 'NX');
    return ts;
  }

  async stage({ runId, request, parentTs }: RunRef, stage: RunStage): Promise<void> {
    // The final edit is publishReport's or failRun's: skipping these keeps a run to a handful of edits.
    if (stage === 'done' || stage === 'failed') return;
    const stageKey = this.key('run', runId, 'stage');
    const previous = (await this.redis.get(stageKey)) as RunStage | null;
    // A retried job replays its stages; never move the parent backwards or edit a finished run.
    if (previous && STAGE_ORDER[previous] >= STAGE_ORDER[stage]) return;
    await slackCall('the progress edit', () => this.client.chat.update({ channel: request.channel, ts: parentTs, ...body(progressMessage(request, stage)) }));
    await this.redis.set(stageKey, stage, 'EX', this.ttl);
  }

  async publishReport({ runId, request, parentTs }: RunRef, report: Report, proposals: Record<string, PlanProposal> = {}): Promise<void> {
    const log = this.log.child({ runId, channel: request.channel });
    const reportUrl = this.pageUrl?.({ kind: 'run', cluster: request.cluster, runId });
    const summary = summaryMessage(report, request, reportUrl);
    // Kept so a decision on a cause's fix can re-render the parent with its outcome.
    await this.redis.set(this.key('summary', request.channel, parentTs), JSON.stringify(summary), 'EX', this.ttl);
    await slackCall('the summary edit', () => this.client.chat.update({ channel: request.channel, ts: parentTs, ...body(summary) }));
    await this.redis.set(this.key('run', runId, 'stage'), 'done', 'EX', this.ttl);

    const failures: SlackDeliveryError[] = [];
    let truncated = false;
    const roots = report.findings.filter((f) => f.rootCause);
    for (const [i, finding] of roots.entries()) {
      const proposal = finding.plan ? proposals[finding.plan.id] : undefined;
      const message = rootCauseMessage(report, finding, i, { ...(proposal ? { proposal } : {}), cluster: request.cluster, ...(reportUrl ? { reportUrl } : {}) });
      truncated ||= Boolean(message.truncated);
      // Kept so a decision can edit the reply (who, when, outcome) without the report at hand.
      if (proposal && finding.plan) {
        const stored: StoredPlanMessage = { message, target: planTarget(finding.plan, request.cluster), cause: i };
        await this.redis.set(this.key('plan-message', proposal.planId), JSON.stringify(stored), 'EX', this.ttl);
      }
      try {
        await this.once(this.key('run', runId, 'reply', finding.id), async () => {
          const res = await slackCall(`root cause ${i + 1}`, () =>
            this.client.chat.postMessage({ channel: request.channel, thread_ts: parentTs, ...body(message), ...NO_UNFURL }),
          );
          return res.ts!;
        });
      } catch (e) {
        log.error({ err: e, finding: finding.id }, 'could not post a root-cause reply');
        failures.push(deliveryError(e, `root cause ${i + 1}`));
      }
    }
    if (truncated) {
      try {
        await this.once(this.key('run', runId, 'file'), async () => {
          const where = report.target.namespace ?? 'cluster';
          await slackCall('the full report upload', () => this.client.filesUploadV2({
            channel_id: request.channel,
            thread_ts: parentTs,
            filename: `netdoctor-${where}-${runId}.md`.replace(/[^A-Za-z0-9._-]/g, '_'),
            title: 'Full netdoctor report',
            content: renderMarkdown(report),
          }));
          return 'uploaded';
        });
      } catch (e) {
        log.error({ err: e }, 'could not attach the full report');
        failures.push(deliveryError(e, 'the full report upload'));
      }
    }
    if (failures.length > 0) {
      const what = failures.map((f) => f.message).join('; ');
      await this.surfaceFailure(runId, request.channel, parentTs, what);
      // Thrown so the job is retried when that can help; the replies already recorded are not posted again.
      throw new SlackDeliveryError(what, failures.some((f) => f.transient));
    }
  }

  async failRun({ runId, request, parentTs }: RunRef, reason: string): Promise<void> {
    await slackCall('the failure edit', () => this.client.chat.update({ channel: request.channel, ts: parentTs, ...body(progressMessage(request, 'failed', reason)) }));
    await this.redis.set(this.key('run', runId, 'stage'), 'failed', 'EX', this.ttl);
  }

  async publishDigest(channel: string, digest: Digest): Promise<void> {
    const pageUrl = this.pageUrl?.({ kind: 'digest', cluster: digest.cluster, day: digest.day });
    const ts = await this.once(this.key('digest', digest.cluster, digest.day, channel), async () => {
      const res = await slackCall('the digest', () => this.client.chat.postMessage({ channel, ...body(digestMessage(digest, pageUrl)), ...NO_UNFURL }));
      return res.ts!;
    });
    if (!this.trendPicture || !ts) return;
    const render = this.trendPicture;
    // The picture is an extra: a failure is logged, the digest itself stands.
    try {
      await this.once(this.key('digest', digest.cluster, digest.day, channel, 'trend'), async () => {
        const png = await render(digest);
        await slackCall('the trend picture upload', () =>
          this.client.filesUploadV2({
            channel_id: channel,
            thread_ts: ts,
            file: png,
            filename: `netdoctor-trend-${digest.cluster}-${digest.day}.png`,
            title: `Root causes per day on ${digest.cluster}, last 30 days`,
            alt_text: `Bar chart of root causes per day on cluster ${digest.cluster} over the last 30 days, coloured by fault code`,
          }),
        );
        return 'uploaded';
      });
    } catch (e) {
      this.log.error({ err: e, cluster: digest.cluster, day: digest.day }, 'could not upload the digest trend picture');
    }
  }

  /** Edits the plan's reply (its outcome under the headline) and the parent's line for its cause. */
  async showPlanState(ref: PlanMessageRef, view: PlanStateView): Promise<void> {
    const raw = await this.redis.get(this.key('plan-message', view.planId));
    const stored = raw ? (JSON.parse(raw) as StoredPlanMessage) : undefined;
    const base = stored?.message ?? noticeMessage(text(view.summary));
    await slackCall('the plan update', () => this.client.chat.update({ channel: ref.channel, ts: ref.messageTs, ...body(withPlanState(base, view, stored?.target)) }));
    if (!stored || !ref.parentTs) return;
    const parentTs = ref.parentTs;
    const outcomesKey = this.key('outcomes', ref.channel, parentTs);
    await this.redis.multi().hset(outcomesKey, String(stored.cause), JSON.stringify(view)).expire(outcomesKey, this.ttl).exec();
    const [summary, outcomes] = await Promise.all([this.redis.get(this.key('summary', ref.channel, parentTs)), this.redis.hgetall(outcomesKey)]);
    if (!summary) return;
    const views = Object.fromEntries(Object.entries(outcomes).map(([cause, v]) => [Number(cause), JSON.parse(v) as PlanStateView]));
    await slackCall('the summary edit', () => this.client.chat.update({ channel: ref.channel, ts: parentTs, ...body(summaryWithOutcomes(JSON.parse(summary) as SlackMessage, views)) }));
  }

  /** Which of the given Slack user groups the user belongs to (group approvers; scope usergroups:read). */
  async userGroups(user: string, groups: readonly string[]): Promise<string[]> {
    const member: string[] = [];
    for (const usergroup of groups) {
      const res = await slackCall('the user group lookup', () => this.client.usergroups.users.list({ usergroup }));
      if (res.users?.includes(user)) member.push(usergroup);
    }
    return member;
  }

  async postToThread(channel: string, parentTs: string, message: string, mention?: string): Promise<void> {
    await slackCall('a thread reply', () => this.client.chat.postMessage({ channel, thread_ts: parentTs, ...body(noticeMessage(`${mention ? `${mentionUser(mention)}: ` : ''}${text(message)}`)), ...NO_UNFURL }));
  }

  /** Tells the thread that part of the report is missing; best effort (Slack may be what is failing). */
  private async surfaceFailure(runId: string, channel: string, parentTs: string, what: string): Promise<void> {
    try {
      await this.once(this.key('run', runId, 'failure-notice'), async () => {
        const res = await this.client.chat.postMessage({ channel, thread_ts: parentTs, ...body(deliveryFailureMessage(runId, what)) });
        return res.ts!;
      });
    } catch (e) {
      this.log.error({ err: e, runId }, 'could not tell the thread about a delivery failure');
    }
  }

  /**
   * Posts at most once per key: returns the recorded value, or claims a short lock, posts and records.
   * A caller that finds the lock taken waits for the other's record (undefined if it never comes).
   * The lock expires, so a process that died between claim and post does not block a retry forever.
   */
  private async once(key: string, post: () => Promise<string>): Promise<string | undefined> {
    const recorded = await this.redis.get(key);
    if (recorded) return recorded;
    const lock = `${key}:lock`;
    if ((await this.redis.set(lock, '1', 'PX', 60_000, 'NX')) !== 'OK') return this.waitFor(key);
    try {
      // Another process may have posted, recorded and let go between the read above and the lock.
      const raced = await this.redis.get(key);
      if (raced) return raced;
      const value = await post();
      await this.redis.set(key, value, 'EX', this.ttl);
      return value;
    } finally {
      await this.redis.del(lock);
    }
  }

  private async waitFor(key: string): Promise<string | undefined> {
    for (let waited = 0; waited < this.waitMs; waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
      const value = await this.redis.get(key);
      if (value) return value;
    }
    return undefined;
  }
}

/** Slack's `ok:false` errors the operator must fix; retrying them cannot help. */
const PERMANENT: Readonly<Record<string, string>> = {
  not_in_channel: 'the bot is not in this channel: invite it (/invite @netdoctor)',
  channel_not_found: 'the channel does not exist or the bot cannot see it',
  is_archived: 'the channel is archived',
  invalid_auth: 'the bot token is invalid (SLACK_BOT_TOKEN)',
  token_revoked: 'the bot token was revoked (SLACK_BOT_TOKEN)',
  not_authed: 'no bot token was sent (SLACK_BOT_TOKEN)',
  missing_scope: 'the Slack app lacks a scope: reinstall it from deploy/slack/manifest.yaml',
  msg_too_long: 'the message was too long for Slack',
  msg_blocks_too_long: 'the message was too long for Slack',
  invalid_blocks: 'Slack rejected the message layout',
};

/**
 * A Web API failure in the queue's terms (see queue/failures.ts): `transient` decides retry or
 * final failure; the message is safe to show (method and Slack's error code, no payload).
 */
export class SlackDeliveryError extends Error {
  readonly code = 'slack_delivery';
  constructor(
    message: string,
    readonly transient: boolean,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'SlackDeliveryError';
  }
}

export function deliveryError(err: unknown, what: string): SlackDeliveryError {
  if (err instanceof SlackDeliveryError) return err;
  const e = (err ?? {}) as { code?: string; data?: { error?: string }; statusCode?: number; retryAfter?: number };
  if (e.code === 'slack_webapi_platform_error') {
    const code = e.data?.error ?? 'unknown_error';
    return new SlackDeliveryError(`Slack refused ${what} (${code})${PERMANENT[code] ? `: ${PERMANENT[code]}` : ''}`, !PERMANENT[code]);
  }
  if (e.code === 'slack_webapi_rate_limited_error') return new SlackDeliveryError(`Slack rate-limited ${what}`, true, e.retryAfter);
  if (e.code === 'slack_webapi_http_error') return new SlackDeliveryError(`Slack answered HTTP ${e.statusCode ?? '?'} to ${what}`, true);
  return new SlackDeliveryError(`could not reach Slack for ${what}`, true);
}

async function slackCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw deliveryError(e, what);
  }
}

/** What chat.postMessage / chat.update send: a coloured message puts its blocks in one attachment (the bar). */
function body(message: SlackMessage): { text: string; blocks: SlackMessage['blocks'] } | { text: string; attachments: { color: string; blocks: SlackMessage['blocks'] }[] } {
  if (message.color) return { text: message.text, attachments: [{ color: message.color, blocks: message.blocks }] };
  return { text: message.text, blocks: message.blocks };
}
