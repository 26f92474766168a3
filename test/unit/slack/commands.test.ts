import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { DiagnoseRequest } from '../../../src/domain/ports';
import { silentLogger } from '../../../src/domain/run-context';
import { COMMAND, type CommandArgs, type CommandDeps, handleCommand, parseCommand } from '../../../src/slack/commands';

describe('parseCommand', () => {
  it.each([
    ['help', { kind: 'help' }],
    ['  checks ', { kind: 'checks' }],
    ['status', { kind: 'status' }],
    ['digest', { kind: 'digest' }],
    ['digest --cluster prod-eu', { kind: 'digest', cluster: 'prod-eu' }],
    ['triton', { kind: 'diagnose', namespace: 'triton' }],
    ['triton --cluster prod', { kind: 'diagnose', namespace: 'triton', cluster: 'prod' }],
    ['triton --cluster=prod --workflow namespace-triage', { kind: 'diagnose', namespace: 'triton', cluster: 'prod', workflow: 'namespace-triage' }],
    ['--workflow namespace-triage triton', { kind: 'diagnose', namespace: 'triton', workflow: 'namespace-triage' }],
  ])('%j', (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it.each([
    ['', 'Which namespace'],
    ['triton --force', 'Unknown option'],
    ['triton --cluster', 'needs a value'],
    ['triton --cluster --workflow x', 'needs a value'],
    ['Triton', 'not a namespace name'],
    ['a'.repeat(64), 'not a namespace name'],
    ['<!channel>', 'not a namespace name'],
    ['triton extra', 'Unexpected'],
    ['help --cluster prod', 'does not apply'],
    ['status --workflow x', 'does not apply'],
    ['triton --cluster Prod_EU', 'not a valid cluster name'],
  ])('%j is refused', (text, why) => {
    const parsed = parseCommand(text);
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.reason).toContain(why);
    // The reason is shown as mrkdwn: user text in it must be inert.
    expect(parsed.kind === 'invalid' && parsed.reason).not.toMatch(/<!channel>/);
  });
});

interface Recorded {
  acks: unknown[];
  responses: unknown[];
  enqueued: [DiagnoseRequest, string][];
  opened: string[];
}

function harness(overrides: Partial<CommandDeps> = {}): { deps: CommandDeps; rec: Recorded; args: (text: string, channel?: string) => CommandArgs } {
  const rec: Recorded = { acks: [], responses: [], enqueued: [], opened: [] };
  const deps: CommandDeps = {
    enqueue: async (request, requestId) => {
      rec.enqueued.push([request, requestId]);
      return { jobId: `diagnose-${requestId}`, joined: false };
    },
    openRun: async (runId) => {
      rec.opened.push(runId);
      return '1700000000.000001';
    },
    status: async () => [{ cluster: 'prod', waiting: 2, active: 1, failed: 0, workers: 1 }],
    digestNow: async () => 'digest-1',
    checks: [{ id: 'kube-proxy-config-path', title: 'kube-proxy config path', codes: ['KP-CONFIG-PATH'] }],
    workflows: ['namespace-triage', 'quick'],
    clusters: ['prod', 'staging'],
    allowedChannels: [],
    log: silentLogger,
    ...overrides,
  };
  const args = (text: string, channel = 'C0OPS0001'): CommandArgs => ({
    command: { text, user_id: 'U0ALICE01', channel_id: channel, trigger_id: 'trig.1' },
    ack: async (r) => void rec.acks.push(r),
    respond: async (r) => {
      rec.responses.push(r);
      return new Response('ok');
    },
    client: { chat: { getPermalink: async ({ channel: c, message_ts }: { channel: string; message_ts: string }) => ({ ok: true, permalink: `https://x.slack.test/archives/${c}/p${message_ts.replace('.', '')}` }) } } as never,
  });
  return { deps, rec, args };
}

const textOf = (r: unknown): string => JSON.stringify(r);

describe('handleCommand', () => {
  it('acks first, then enqueues with the trigger id and opens the run by job id', async () => {
    const { deps, rec, args } = harness();
    await handleCommand(args('triton --cluster staging'), deps);
    expect(rec.acks).toEqual([undefined]);
    expect(rec.enqueued).toEqual([[{ cluster: 'staging', namespace: 'triton', workflow: 'namespace-triage', requestedBy: 'U0ALICE01', channel: 'C0OPS0001' }, 'trig.1']]);
    expect(rec.opened).toEqual(['diagnose-trig.1']);
    expect(rec.responses).toEqual([]);
  });

  it('a joined request is told where the results will appear and opens no second parent', async () => {
    const { deps, rec, args } = harness({ enqueue: async () => ({ jobId: 'diagnose-first', joined: true, parentTs: '1700000000.000042' }) });
    await handleCommand(args('triton'), deps);
    expect(rec.opened).toEqual([]);
    expect(textOf(rec.responses)).toContain('already running');
    expect(textOf(rec.responses)).toContain('p1700000000000042');
  });

  it('a run joined from another channel links to the thread in that channel', async () => {
    const { deps, rec, args } = harness({ enqueue: async () => ({ jobId: 'diagnose-first', joined: true, parentTs: '1700000000.000042', channel: 'C0OTHER01' }) });
    await handleCommand(args('triton'), deps);
    expect(textOf(rec.responses)).toContain('archives/C0OTHER01/p1700000000000042');
    expect(textOf(rec.responses)).toContain('<#C0OTHER01>');
  });

  it('refuses a channel outside the allow-list politely, before anything else', async () => {
    const { deps, rec, args } = harness({ allowedChannels: ['C0ALLOWED1'] });
    await handleCommand(args('triton'), deps);
    expect(rec.acks).toHaveLength(1);
    expect(textOf(rec.acks[0])).toContain('not enabled in this channel');
    expect(textOf(rec.acks[0])).toContain('ephemeral');
    expect(rec.enqueued).toEqual([]);
  });

  it.each(['triton --cluster nope', 'triton --workflow nope', 'triton --force', 'BAD'])('%j: ephemeral explanation, nothing queued', async (text) => {
    const { deps, rec, args } = harness();
    await handleCommand(args(text), deps);
    expect(rec.acks).toHaveLength(1);
    expect(textOf(rec.acks[0])).toContain('ephemeral');
    expect(rec.enqueued).toEqual([]);
    expect(rec.opened).toEqual([]);
  });

  it('a namespace the worker did not see (published list) is refused without queueing', async () => {
    const { deps, rec, args } = harness({ knownNamespaces: async () => ({ namespaces: ['default', 'kube-system'], at: '2026-11-25T22:00:00.000Z' }) });
    await handleCommand(args('triton'), deps);
    expect(textOf(rec.responses)).toContain('does not exist');
    expect(rec.enqueued).toEqual([]);
  });

  it('help and checks answer in the ack; status and digest respond after it', async () => {
    const { deps, rec, args } = harness();
    await handleCommand(args('help'), deps);
    await handleCommand(args('checks'), deps);
    expect(textOf(rec.acks[0])).toContain('/netdoctor NAMESPACE');
    expect(textOf(rec.acks[1])).toContain('kube-proxy-config-path');
    await handleCommand(args('status'), deps);
    expect(textOf(rec.responses[0])).toContain('2 waiting');
    await handleCommand(args('digest --cluster staging'), deps);
    expect(textOf(rec.responses[1])).toContain('Digest for cluster');
  });
});

describe('deploy/slack/manifest.yaml', () => {
  const manifest = parse(readFileSync(join(__dirname, '..', '..', '..', 'deploy', 'slack', 'manifest.yaml'), 'utf8')) as {
    features: { slash_commands: { command: string }[] };
    oauth_config: { scopes: { bot: string[] } };
    settings: { socket_mode_enabled: boolean; interactivity: { is_enabled: boolean } };
  };
  it('declares the command the app registers, minimal scopes, Socket Mode and interactivity', () => {
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual([COMMAND]);
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(['chat:write', 'commands', 'files:write']);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
  });
});
