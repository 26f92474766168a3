import type { App, BlockAction, ButtonAction, RespondFn, SlashCommand, webApi } from '@slack/bolt';
import { NetdoctorError } from '../domain/errors';
import { DNS_LABEL } from '../domain/object-ref';
import type { DiagnoseRequest } from '../domain/ports';
import type { Logger } from '../domain/run-context';
import { type ClusterStatus, type SlackMessage, checksMessage, helpMessage, noticeMessage, statusMessage } from './blocks';
import { code } from './escape';
import { DIAGNOSE_ACTION } from './ids';

export const COMMAND = '/netdoctor';

/** What `/netdoctor …` asked for, or why it cannot be understood (`reason` is mrkdwn-safe). */
export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'checks' }
  | { kind: 'status' }
  | { kind: 'digest'; cluster?: string }
  | { kind: 'diagnose'; namespace: string; cluster?: string; workflow?: string }
  | { kind: 'invalid'; reason: string };

/** RFC 1123 label: what Kubernetes accepts as a namespace name. */
const FLAGS: Record<string, readonly ParsedCommand['kind'][]> = { cluster: ['diagnose', 'digest'], workflow: ['diagnose'] };

function invalid(reason: string): ParsedCommand {
  return { kind: 'invalid', reason: `${reason}\nTry ${code('/netdoctor help')}.` };
}

/** Parses the command text; pure, so every rejection is decided before anything is queued. */
export function parseCommand(raw: string): ParsedCommand {
  const words = raw.trim().split(/\s+/).filter(Boolean);
  const flags: Record<string, string> = {};
  const positionals: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (!word.startsWith('-')) {
      positionals.push(word);
      continue;
    }
    const [flag, inline] = word.replace(/^--?/, '').split('=', 2) as [string, string | undefined];
    if (!(flag in FLAGS)) return invalid(`Unknown option ${code(word)}.`);
    const value = inline ?? words[++i];
    if (!value || value.startsWith('-')) return invalid(`Option ${code(`--${flag}`)} needs a value.`);
    if (!DNS_LABEL.test(value)) return invalid(`${code(value)} is not a valid ${flag} name (lower-case letters, digits and ${code('-')}).`);
    flags[flag] = value;
  }
  const [first, ...rest] = positionals;
  const only = (kind: ParsedCommand['kind']): string | undefined => {
    const wrong = Object.keys(flags).find((f) => !FLAGS[f]!.includes(kind));
    if (wrong) return `${code(`--${wrong}`)} does not apply to ${code(first ?? '')}.`;
    if (rest.length > 0) return `Unexpected ${code(rest.join(' '))}.`;
    return undefined;
  };
  if (first === undefined) return invalid('Which namespace? For example ' + code('/netdoctor triton') + '.');
  const simple = { help: 'help', checks: 'checks', status: 'status' } as const;
  if (first in simple) {
    const why = only(first as ParsedCommand['kind']);
    return why ? invalid(why) : { kind: simple[first as keyof typeof simple] };
  }
  if (first === 'digest') {
    const why = only('digest');
    return why ? invalid(why) : { kind: 'digest', ...(flags.cluster ? { cluster: flags.cluster } : {}) };
  }
  if (!DNS_LABEL.test(first)) return invalid(`${code(first)} is not a namespace name (RFC 1123: lower-case letters, digits and ${code('-')}, at most 63).`);
  const why = only('diagnose');
  if (why) return invalid(why);
  return { kind: 'diagnose', namespace: first, ...(flags.cluster ? { cluster: flags.cluster } : {}), ...(flags.workflow ? { workflow: flags.workflow } : {}) };
}

export interface EnqueueResult {
  jobId: string;
  /** A run for the same target was already in flight; this request joined it. */
  joined: boolean;
  parentTs?: string;
  /** The joined run's channel (it may have been asked for elsewhere). */
  channel?: string;
}

/** What the command handler needs; injected so it is tested without a queue or a cluster. */
export interface CommandDeps {
  /** `requestId` (Slack's trigger id) makes a redelivered command enqueue once. */
  enqueue(request: DiagnoseRequest, requestId: string): Promise<EnqueueResult>;
  /** Posts the run's parent message once (ChatSurface.openRun) and records its ts. */
  openRun(runId: string, request: DiagnoseRequest): Promise<string>;
  /** The parent ts recorded for a run, to point a joining user at its thread. */
  parentOf?(runId: string): Promise<string | undefined>;
  status(): Promise<ClusterStatus[]>;
  /** Queues a digest now; resolves to the job id. */
  digestNow?(request: { cluster: string; channel: string; requestedBy: string }): Promise<string>;
  /** The catalog for `/netdoctor checks` (id, title and fault codes only: Slack never imports checks). */
  checks: readonly { id: string; title: string; codes: readonly string[] }[];
  /** Namespace-scoped workflows a user may name with --workflow; the first is the default. */
  workflows: readonly string[];
  /** Clusters served; the first is the default. */
  clusters: readonly string[];
  /** Channel ids where the command is accepted; empty: everywhere. */
  allowedChannels: readonly string[];
  /**
   * The namespaces a process with cluster access last published (slack/namespace-directory.ts);
   * undefined when unknown. Without it, a missing namespace is reported by the worker on the parent message.
   */
  knownNamespaces?(cluster: string): Promise<{ namespaces: readonly string[]; at: string } | undefined>;
  log: Logger;
}

type Ack = (response?: { response_type: 'ephemeral'; text: string; blocks: SlackMessage['blocks'] }) => Promise<void>;

export interface CommandArgs {
  command: Pick<SlashCommand, 'text' | 'user_id' | 'channel_id' | 'trigger_id'>;
  ack: Ack;
  respond: RespondFn;
  client: Pick<webApi.WebClient, 'chat'>;
}

const ephemeral = (m: SlackMessage): { response_type: 'ephemeral'; text: string; blocks: SlackMessage['blocks'] } => ({
  response_type: 'ephemeral',
  text: m.text,
  blocks: m.blocks,
});

/**
 * `/netdoctor`: parse and authorize (pure, in memory), ack within Slack's 3 s, then enqueue and
 * post the parent message. No cluster reads here: the worker does those.
 */
export async function handleCommand({ command, ack, respond, client }: CommandArgs, deps: CommandDeps): Promise<void> {
  const log = deps.log.child({ user: command.user_id, channel: command.channel_id });
  if (deps.allowedChannels.length > 0 && !deps.allowedChannels.includes(command.channel_id)) {
    await ack(ephemeral(noticeMessage(':no_entry: Sorry, netdoctor is not enabled in this channel. Ask your Slack admin which channels it serves.')));
    return;
  }
  const parsed = parseCommand(command.text);
  switch (parsed.kind) {
    case 'invalid':
      return ack(ephemeral(noticeMessage(parsed.reason)));
    case 'help':
      return ack(ephemeral(helpMessage()));
    case 'checks':
      return ack(ephemeral(checksMessage(deps.checks)));
    case 'status':
      await ack();
      await respond(ephemeral(statusMessage(await deps.status())));
      return;
    case 'digest': {
      const cluster = parsed.cluster ?? deps.clusters[0]!;
      if (!deps.clusters.includes(cluster)) return ack(ephemeral(unknownCluster(cluster, deps)));
      if (!deps.digestNow) return ack(ephemeral(noticeMessage('The digest is not enabled on this install.')));
      await ack();
      const jobId = await deps.digestNow({ cluster, channel: command.channel_id, requestedBy: command.user_id });
      log.info({ jobId, cluster }, 'digest requested');
      await respond(ephemeral(noticeMessage(`Digest for cluster ${code(cluster)} queued; it will be posted in this channel.`)));
      return;
    }
    case 'diagnose':
      return diagnoseCommand(parsed, { command, ack, respond, client }, deps, log);
  }
}

function unknownCluster(cluster: string, deps: CommandDeps): SlackMessage {
  return noticeMessage(`Unknown cluster ${code(cluster)}. Known: ${deps.clusters.map(code).join(', ')}.`);
}

async function diagnoseCommand(
  parsed: Extract<ParsedCommand, { kind: 'diagnose' }>,
  { command, ack, respond, client }: CommandArgs,
  deps: CommandDeps,
  log: Logger,
): Promise<void> {
  const cluster = parsed.cluster ?? deps.clusters[0]!;
  const workflow = parsed.workflow ?? deps.workflows[0]!;
  if (!deps.clusters.includes(cluster)) return ack(ephemeral(unknownCluster(cluster, deps)));
  if (!deps.workflows.includes(workflow)) {
    return ack(ephemeral(noticeMessage(`Unknown workflow ${code(workflow)}. Known: ${deps.workflows.map(code).join(', ')}.`)));
  }
  await ack();
  const known = await deps.knownNamespaces?.(cluster);
  if (known && !known.namespaces.includes(parsed.namespace)) {
    const at = known.at.slice(11, 19);
    await respond(
      ephemeral(
        noticeMessage(`Namespace ${code(parsed.namespace)} does not exist in cluster ${code(cluster)} (as of ${code(`${at} UTC`)}; if it was just created, try again in a minute).`),
      ),
    );
    return;
  }
  const request: DiagnoseRequest = { cluster, namespace: parsed.namespace, workflow, requestedBy: command.user_id, channel: command.channel_id };
  const { jobId, joined, parentTs, channel } = await deps.enqueue(request, command.trigger_id);
  log.info({ jobId, joined, cluster, namespace: parsed.namespace, workflow }, 'diagnosis requested');
  if (!joined) {
    await deps.openRun(jobId, request);
    return;
  }
  const where = channel ?? command.channel_id;
  const ts = parentTs ?? (await deps.parentOf?.(jobId));
  const link = ts ? await permalink(client, where, ts) : undefined;
  const place = where === command.channel_id ? 'in this channel' : /^[CGD][A-Z0-9]{2,}$/.test(where) ? `in <#${where}>` : `in ${code(where)}`;
  await respond(
    ephemeral(
      noticeMessage(
        `A diagnosis of namespace ${code(parsed.namespace)} on cluster ${code(cluster)} is already running; ` +
          (link ? `the results will appear in <${link}|its thread> ${place}.` : `the results will appear in its thread ${place}.`),
      ),
    ),
  );
}

async function permalink(client: Pick<webApi.WebClient, 'chat'>, channel: string, ts: string): Promise<string | undefined> {
  const res = await client.chat.getPermalink({ channel, message_ts: ts });
  // Slack gives the URL; it is still checked before going inside <…>.
  return res.permalink && /^https?:\/\/[^\s<>|]+$/.test(res.permalink) ? res.permalink : undefined;
}

/** Registers `/netdoctor`; the handler stays thin (all decisions are in handleCommand). */
export function registerCommands(app: App, deps: CommandDeps): void {
  const links = rememberedPermalinks();
  registerDiagnoseButtons(app, deps, links);
  app.command(COMMAND, async ({ command, ack, respond, client }) => {
    try {
      await handleCommand({ command, ack: ack, respond, client: links(client) }, deps);
    } catch (e) {
      // The user hears about it; the error still reaches app.error (and the logs) with its stack.
      const why = e instanceof NetdoctorError ? code(e.message) : 'an internal error (the operator\'s logs have the details)';
      await respond(ephemeral(noticeMessage(`:warning: netdoctor could not handle ${code(`${COMMAND} ${command.text}`)}: ${why}`))).catch(() => undefined);
      throw e;
    }
  });
}

/**
 * The digest's "Diagnose <namespace>" buttons: a click is the typed command `/netdoctor <namespace>
 * --cluster <cluster>` by the clicker, in the digest's channel, with every check the command has.
 */
export function registerDiagnoseButtons(app: App, deps: CommandDeps, links = rememberedPermalinks()): void {
  app.action<BlockAction<ButtonAction>>(new RegExp(`^${DIAGNOSE_ACTION}-`), async ({ ack, body, action, respond, client }) => {
    await ack();
    const [cluster = '', namespace = ''] = (action.value ?? '').split('/');
    const command = { text: `${namespace} --cluster ${cluster}`, user_id: body.user.id, channel_id: body.channel?.id ?? '', trigger_id: body.trigger_id };
    // The command's ack carries its ephemeral answer; a button's ack cannot, so it goes through respond.
    const answer = async (response?: Parameters<Ack>[0]): Promise<void> => {
      if (response) await respond({ ...response, replace_original: false });
    };
    await handleCommand({ command, ack: answer, respond, client: links(client) }, deps);
  });
}

type ChatClient = Pick<webApi.WebClient, 'chat'>;

/**
 * A client whose chat.getPermalink answers from memory once Slack gave a message's link (a link
 * never changes): every command that joins a running diagnosis links its thread, and that Web API
 * call was the largest part of the front end's work after the ack. Bounded; the oldest go first.
 */
export function rememberedPermalinks(limit = 1_000): (client: ChatClient) => ChatClient {
  const known = new Map<string, Awaited<ReturnType<ChatClient['chat']['getPermalink']>>>();
  return (client) => ({
    chat: {
      ...client.chat,
      getPermalink: async (args) => {
        const key = `${args.channel}/${args.message_ts}`;
        const hit = known.get(key);
        if (hit) return hit;
        const res = await client.chat.getPermalink(args);
        if (res.ok && res.permalink) {
          if (known.size >= limit) known.delete(known.keys().next().value!);
          known.set(key, res);
        }
        return res;
      },
    },
  });
}
