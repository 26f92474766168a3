import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CHECKS } from '../checks';
import { DumpReader } from '../cluster/dump-reader';
import { writeDump } from '../cluster/dump-writer';
import { KubeApi } from '../cluster/kube-api';
import { loadKubeConfig } from '../cluster/kubeconfig';
import { LiveReader } from '../cluster/live-reader';
import type { ClusterReader } from '../domain/cluster-view';
import { NetdoctorError } from '../domain/errors';
import { KINDS } from '../domain/kube-types';
import { silentLogger } from '../domain/run-context';
import { INFRA_NAMESPACES, diagnose, extraLists } from '../engine/diagnose';
import { loadWorkflows, pickWorkflow } from '../engine/workflow';
import { heapReclaimer } from '../observability/heap';
import { renderJson } from '../render/json';
import { renderReportPage } from '../render/html/report-page';
import { renderMarkdown } from '../render/markdown';
import { renderText } from '../render/text';
import { dumpBaseline } from './dump-baseline';
import { intentInit } from './intent-command';
import type { CliIo } from './io';

const USAGE = `Usage:
  netdoctor diagnose <namespace> [--from DIR [--now TIME] | --kubeconfig FILE] [--context NAME] [--cluster NAME]
                                 [--workflow NAME] [--output text|markdown|json|html] [--baseline DIR]
  netdoctor snapshot <namespace...> --out DIR [--kubeconfig FILE] [--context NAME]
  netdoctor intent init <namespace> [--from DIR | --kubeconfig FILE] [--context NAME] [--out FILE]
  netdoctor checks
  netdoctor serve [--cluster NAME] [--from DIR] [--front-end-only]   (Slack bot + workers)
  netdoctor worker --cluster NAME [--from DIR]
  netdoctor digest --cluster NAME [--channel C]
  netdoctor status [--cluster NAME] [--output text|json]
  netdoctor help`;

const OUTPUTS = ['text', 'markdown', 'json', 'html'] as const;
type Output = (typeof OUTPUTS)[number];

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>): ReturnType<typeof parseArgs> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new NetdoctorError('bad_input', (e as Error).message);
  }
}

const CLUSTER_FLAGS = { kubeconfig: { type: 'string' }, context: { type: 'string' } } as const;

async function liveReader(values: Record<string, unknown>, io: CliIo, cluster?: string): Promise<{ reader: LiveReader; api: KubeApi }> {
  const kc = await loadKubeConfig({ file: values.kubeconfig as string | undefined, context: values.context as string | undefined, env: io.env });
  const api = await KubeApi.fromKubeConfig(kc);
  return { reader: new LiveReader(api, { cluster }), api };
}

async function diagnoseCommand(args: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parse(args, {
    ...CLUSTER_FLAGS,
    from: { type: 'string' },
    now: { type: 'string' },
    cluster: { type: 'string' },
    workflow: { type: 'string', default: 'namespace-triage' },
    output: { type: 'string', default: 'text' },
    baseline: { type: 'string' },
  });
  const output = values.output as Output;
  if (!OUTPUTS.includes(output)) throw new NetdoctorError('bad_input', `--output must be one of ${OUTPUTS.join(', ')}`);
  const workflow = pickWorkflow(loadWorkflows(CHECKS), values.workflow as string);
  const namespace = positionals[0];
  if (workflow.scope === 'namespace' && (positionals.length !== 1 || !namespace)) {
    throw new NetdoctorError('bad_input', 'diagnose takes exactly one namespace');
  }
  if (values.from && (values.kubeconfig || values.context)) throw new NetdoctorError('bad_input', '--from reads a dump; it cannot be combined with --kubeconfig/--context');
  const cluster = values.cluster as string | undefined;
  let reader: ClusterReader;
  let api: KubeApi | undefined;
  if (values.now !== undefined && !values.from) throw new NetdoctorError('bad_input', '--now applies to a dump (--from); a live read takes the apiserver\'s clock');
  if (values.from) reader = await DumpReader.open(values.from as string, values.now !== undefined ? { now: parseInstant(values.now as string) } : {});
  else ({ reader, api } = await liveReader(values, io, cluster));
  try {
    const baselines = values.baseline !== undefined ? dumpBaseline(values.baseline as string) : undefined;
    const report = await diagnose({ runId: 'cli', log: silentLogger, clock: () => new Date(), reclaimMemory: heapReclaimer() }, reader, workflow, { cluster, namespace }, baselines);
    if (output === 'json') io.stdout(renderJson(report));
    else if (output === 'markdown') io.stdout(renderMarkdown(report));
    else if (output === 'html') io.stdout(renderReportPage({ report }));
    else io.stdout(renderText(report, { color: io.isTTY && !io.env.NO_COLOR }));
  } finally {
    api?.close();
  }
}

/** `--now`: an RFC 3339 instant with its zone, e.g. 2026-03-01T06:40:00Z. */
function parseInstant(text: string): Date {
  const t = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(t)) throw new NetdoctorError('bad_input', `--now must be an RFC 3339 time with a zone, e.g. 2026-03-01T06:40:00Z (got "${text}")`);
  return new Date(t);
}

async function snapshotCommand(args: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parse(args, { ...CLUSTER_FLAGS, out: { type: 'string' } });
  if (positionals.length === 0) throw new NetdoctorError('bad_input', 'snapshot takes one or more namespaces');
  if (!values.out) throw new NetdoctorError('bad_input', 'snapshot needs --out DIR');
  const { reader, api } = await liveReader(values, io);
  try {
    for (const ns of positionals) {
      if (!(await reader.namespaceExists(ns))) throw new NetdoctorError('unknown_namespace', `namespace "${ns}" does not exist`);
    }
    const [first, ...rest] = positionals;
    const also = [...new Set([...rest, ...INFRA_NAMESPACES])].filter((n) => n !== first);
    // What a run reads everywhere (Services env vars name in other namespaces) or in single other namespaces
    // (kube-public's cluster-info, node events in default) goes into the dump too, so it round-trips.
    const everywhere = [...new Set(CHECKS.flatMap((c) => c.needsEverywhere ?? []))];
    const view = await reader.read({ namespace: first, alsoNamespaces: also, kinds: [...KINDS], everywhere, alsoLists: extraLists(CHECKS) });
    const out = values.out as string;
    const written = writeDump(view, out);
    io.stderr(`wrote ${written.objects} objects in ${written.files} ${written.files === 1 ? 'file' : 'files'} and ${written.logs} logs to ${out} (${api.calls} API calls)\n`);
  } finally {
    api.close();
  }
}

async function intentCommand(args: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parse(args, { ...CLUSTER_FLAGS, from: { type: 'string' }, out: { type: 'string' } });
  if (positionals[0] !== 'init' || positionals.length !== 2) throw new NetdoctorError('bad_input', 'usage: intent init <namespace>');
  if (values.from && (values.kubeconfig || values.context)) throw new NetdoctorError('bad_input', '--from reads a dump; it cannot be combined with --kubeconfig/--context');
  const live = async () => {
    const { reader, api } = await liveReader(values, io);
    return { reader, close: () => api.close() };
  };
  await intentInit(positionals[1], values, io, live);
}

function checksCommand(io: CliIo): void {
  const width = Math.max(...CHECKS.map((c) => c.id.length));
  io.stdout(CHECKS.map((c) => `${c.id.padEnd(width)}  ${c.title} [codes: ${c.codes.join(', ')}]`).join('\n') + '\n');
}

// The long-running commands are loaded on demand: `diagnose` should not pay for Bolt, BullMQ and ioredis.

/** Runs one CLI invocation; returns the exit code (0 done, 2 user error, 1 unexpected failure). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'diagnose':
        await diagnoseCommand(rest, io);
        return 0;
      case 'snapshot':
        await snapshotCommand(rest, io);
        return 0;
      case 'serve':
        return await (await import('./serve-command.js')).serveCommand(rest, io);
      case 'worker':
        return await (await import('./worker-command.js')).workerCommand(rest, io);
      case 'digest':
        return await (await import('./worker-command.js')).digestCommand(rest, io);
      case 'status':
        return await (await import('./worker-command.js')).statusCommand(rest, io);
      case 'intent':
        await intentCommand(rest, io);
        return 0;
      case 'checks':
        checksCommand(io);
        return 0;
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE + '\n');
        return 0;
      default:
        throw new NetdoctorError('bad_input', command ? `unknown command "${command}"` : 'no command given');
    }
  } catch (e) {
    if (e instanceof NetdoctorError) {
      io.stderr(`netdoctor: ${e.message}\n${e.code === 'bad_input' ? USAGE + '\n' : ''}`);
      return 2;
    }
    io.stderr(`netdoctor: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}
