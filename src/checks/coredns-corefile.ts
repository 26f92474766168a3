import type { Check, CheckContext } from '../domain/check';
import type { Evidence, FindingDraft } from '../domain/finding';
import type { Pod } from '../domain/kube-types';
import { kubectl, refOf } from '../domain/object-ref';
import { makePlan } from '../domain/plan';
import {
  COREFILE_REF,
  type CoreDnsLogLine,
  DNS_NAMESPACE,
  coreDnsExplains,
  coreDnsContainer,
  coreDnsCrashing,
  coreDnsDeployment,
  coreDnsLogLines,
  coreDnsPods,
  coreDnsRef,
  coreDnsVersion,
  distinctLines,
} from './support/dns';
import { logEvidence } from './support/evidence';
import { testAndReplace } from './support/json-patch';
import { podStateText } from './support/pod-evidence';
import { isReady, CONTAINER_STATUS_READS } from './support/pods';

const ID = 'coredns-corefile';

/**
 * `<file>:<line> - Error during parsing: <msg>`: github.com/coredns/caddy caddyfile/dispenser.go (Dispenser.Err);
 * `Unknown directive '%s'` comes from caddyfile/parse.go, `unknown property '%s'` from each plugin's setup.go,
 * prefixed `plugin/<name>: ` by plugin.Error (coredns plugin/plugin.go).
 */
const PARSE_LINE = /(?:plugin\/([\w-]+): )?(\S+):(\d+) - Error during parsing: (.+)$/;
/**
 * A forward target that is neither an IP nor a readable file: coredns plugin/pkg/parse/host.go
 * (`not an IP address or file: %q` up to 1.11, `not an IP address or file %q: %w` later) and, since the
 * hostname support, plugin/forward/resolve.go `not an IP address, file, or valid domain: %q`. No line number.
 */
const FORWARD_LINE = /plugin\/forward: not an IP address(?: or file|, file, or valid domain):? "([^"]*)"/;
/**
 * Any other plugin's setup error: coremain/run.go prints it bare with log.Fatal (`plugin/<name>: <msg>`, plugin.Error),
 * while errors at run time carry a level (`[ERROR] plugin/errors: …`, `[FATAL] plugin/loop: …`) and do not match.
 */
const SETUP_LINE = /^plugin\/([\w-]+): (.+)$/;

/**
 * The reload plugin refusing an edited Corefile while CoreDNS goes on with the one it runs: coredns plugin/reload/reload.go
 * `[ERROR] plugin/reload: Corefile changed but reload failed: <err>`, after caddy's own `[ERROR] Restart failed: <err>`.
 */
const RELOAD_FAILED = /(Corefile changed but reload failed|Restart failed): /;

/** `proxy` was removed in CoreDNS 1.5.0 (notes/coredns-1.5.0.md); `forward` takes the same `FROM TO...` arguments. */
const PROXY_DIRECTIVE = /^([ \t]*)proxy([ \t]+[^\n]*)$/gm;

interface ParseError {
  hits: CoreDnsLogLine[];
  /** 1-based line of the Corefile the error is at. */
  line?: number;
  message: string;
  plugin?: string;
  /** The unknown directive, when that is the error. */
  directive?: string;
  /** Refused by the reload plugin: CoreDNS still serves its previous Corefile, and the next pod to start fails. */
  latent?: boolean;
}

const corefileLines = (corefile: string): string[] => corefile.split('\n');

function errorInLogs(ctx: CheckContext, pods: Pod[], corefile: string): ParseError | undefined {
  const failing = pods.filter((p) => coreDnsCrashing(p, ctx.now) || !isReady(p));
  const crashed = errorIn(ctx, failing, corefile);
  if (crashed) return crashed;
  const refused = errorIn(ctx, pods.filter((p) => !failing.includes(p)), corefile, RELOAD_FAILED);
  return refused && { ...refused, latent: true };
}

/** The Corefile error the pods logged (only in lines matching `only`, when given). */
function errorIn(ctx: CheckContext, pods: Pod[], corefile: string, only?: RegExp): ParseError | undefined {
  const lines = (pattern: RegExp): CoreDnsLogLine[] => coreDnsLogLines(ctx.view, pods, pattern).filter((h) => !only || only.test(h.line));
  const parse = lines(PARSE_LINE);
  if (parse.length > 0) {
    const m = parse[0]!.match;
    return { hits: parse, line: Number(m[3]), message: m[4]!.trim(), plugin: m[1], directive: /^Unknown directive '([^']+)'/.exec(m[4]!)?.[1] };
  }
  const forward = lines(FORWARD_LINE);
  if (forward.length > 0) {
    const target = forward[0]!.match[1]!;
    // No line number in this message: the forward line that names the bad target.
    const index = corefileLines(corefile).findIndex((l) => /^\s*forward\s/.test(l) && l.split(/\s+/).includes(target));
    return { hits: forward, line: index >= 0 ? index + 1 : undefined, message: forward[0]!.line.replace(/^.*?plugin\/forward: /, ''), plugin: 'forward' };
  }
  const setup = lines(SETUP_LINE);
  if (setup.length > 0) {
    const [, plugin, message] = setup[0]!.match;
    // No line number either: the plugin's directive, when the Corefile has exactly one.
    const at = corefileLines(corefile).flatMap((l, i) => (l.trim().split(/\s+/)[0] === plugin ? [i + 1] : []));
    return { hits: setup, line: at.length === 1 ? at[0] : undefined, message: message!.trim(), plugin };
  }
  return undefined;
}

/**
 * Whether the Corefile now still holds what the logged error names (the quoted directive, property or target, at the
 * logged line when there is one): once the ConfigMap is corrected, the crashed instances' logs are history.
 */
function stillInCorefile(error: ParseError, corefile: string): boolean {
  const token = /'([^']+)'|"([^"]*)"/.exec(error.message);
  const named = token?.[1] ?? token?.[2];
  if (named === undefined) return true;
  const at = error.line !== undefined ? corefileLines(corefile)[error.line - 1] : corefile;
  return (at ?? '').split(/[\s{}]+/).includes(named);
}

function fromLogs(ctx: CheckContext, pods: Pod[], corefile: string): ParseError | undefined {
  const error = errorInLogs(ctx, pods, corefile);
  return error && stillInCorefile(error, corefile) ? error : undefined;
}

/** Without a log: a Corefile still using `proxy` under a CoreDNS image that no longer has it, and CoreDNS failing. */
function fromCorefile(ctx: CheckContext, pods: Pod[], corefile: string): ParseError | undefined {
  const image = coreDnsContainer(coreDnsDeployment(ctx.view))?.container.image ?? pods[0]?.spec?.containers?.[0]?.image;
  const version = coreDnsVersion(image);
  if (!version || version[0] < 1 || (version[0] === 1 && version[1] < 5)) return undefined;
  if (!pods.some((p) => coreDnsCrashing(p, ctx.now))) return undefined;
  const index = corefileLines(corefile).findIndex((l) => /^\s*proxy\s/.test(l));
  if (index < 0) return undefined;
  return { hits: [], line: index + 1, message: "Unknown directive 'proxy'", directive: 'proxy' };
}

/** `forward` in place of every `proxy` directive, the rest byte for byte; undefined when a proxy block has options (their forward equivalents differ). */
function proxyToForward(corefile: string): string | undefined {
  const lines = corefileLines(corefile);
  let blocked = false;
  const next = corefile.replace(PROXY_DIRECTIVE, (_whole: string, indent: string, rest: string, offset: number) => {
    const lineIndex = corefile.slice(0, offset).split('\n').length - 1;
    // `proxy . x {` is only safe with an empty block (`{ }`, or `{` then `}`).
    if (rest.includes('{') && !/\{\s*\}\s*$/.test(rest) && !/^\s*\}\s*$/.test(lines[lineIndex + 1] ?? '')) blocked = true;
    return `${indent}forward${rest}`;
  });
  return blocked ? undefined : next;
}

/** Options of the kubernetes plugin removed in CoreDNS 1.7.0 (notes/coredns-1.7.0.md): deleting their lines changes nothing else. */
const REMOVED_K8S_OPTION = /^[ \t]*(upstream|resyncperiod)\b[^\n{}]*$/;

/** The Corefile without `upstream` / `resyncperiod` lines inside kubernetes blocks. */
function withoutRemovedOptions(corefile: string): string {
  let depth = 0;
  let k8sDepth = -1;
  return corefileLines(corefile)
    .filter((line) => {
      const inside = k8sDepth >= 0 && depth > k8sDepth;
      if (/^\s*kubernetes\b[^\n]*\{\s*$/.test(line)) k8sDepth = depth;
      depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
      if (k8sDepth >= 0 && depth <= k8sDepth) k8sDepth = -1;
      return !(inside && REMOVED_K8S_OPTION.test(line));
    })
    .join('\n');
}

/**
 * The corrected Corefile when every change is certain: `proxy` → `forward` (refused since 1.5.0) and, on images
 * from 1.7.0 on (or when the error names them), the removed kubernetes options dropped; undefined otherwise.
 */
function correctedCorefile(corefile: string, error: ParseError, version: [number, number, number] | undefined): string | undefined {
  const removedOption = /unknown property '(upstream|resyncperiod)'/.test(error.message);
  if (error.directive !== 'proxy' && !removedOption) return undefined;
  const forwarded = proxyToForward(corefile);
  if (forwarded === undefined) return undefined;
  const atLeast17 = version !== undefined && (version[0] > 1 || (version[0] === 1 && version[1] >= 7));
  const fixed = removedOption || atLeast17 ? withoutRemovedOptions(forwarded) : forwarded;
  return fixed === corefile ? undefined : fixed;
}

const DO_NOT_RESTART = 'Do not restart CoreDNS before the Corefile is corrected: its new pods would crash-loop on it. The reload plugin loads the corrected one by itself.';

export const corednsCorefile: Check = {
  id: ID,
  title: 'CoreDNS refuses its Corefile: `Corefile:N - Error during parsing` (e.g. `Unknown directive \'proxy\'`), `plugin/forward: not an IP address or file`, other plugin setup errors',
  codes: ['DNS-COREFILE-PROXY', 'DNS-COREFILE-PARSE'],
  needs: ['Pod', 'Deployment', 'ReplicaSet', 'ConfigMap', 'Service'],
  infraOnly: true,
  reads: {
    ConfigMap: ['data', 'metadata.resourceVersion'],
    Deployment: ['spec.template.spec.containers.image', 'spec.template.spec.containers.name'],
    Pod: ['metadata.creationTimestamp', 'metadata.labels', 'metadata.ownerReferences', 'spec.containers.name', 'spec.nodeName', 'status.conditions', ...CONTAINER_STATUS_READS, 'status.phase'],
    ReplicaSet: ['metadata.ownerReferences'],
  },
  run(ctx) {
    const { view } = ctx;
    const pods = coreDnsPods(view);
    if (pods.length === 0) return [];
    const cm = view.get('ConfigMap', DNS_NAMESPACE, 'coredns');
    const corefile = cm?.data?.Corefile ?? '';
    const error = fromLogs(ctx, pods, corefile) ?? fromCorefile(ctx, pods, corefile);
    if (!error) return [];

    const lines = corefileLines(corefile);
    const quoted = error.line !== undefined ? lines[error.line - 1] : undefined;
    const subject = cm ? refOf('ConfigMap', cm) : COREFILE_REF;
    const deployRef = coreDnsRef(view, pods);
    const failing = error.hits.length > 0 ? error.hits.map((h) => h.pod) : pods.filter((p) => coreDnsCrashing(p, ctx.now));
    const ready = pods.filter(isReady);
    const image = coreDnsContainer(coreDnsDeployment(view))?.container.image ?? pods[0]?.spec?.containers?.[0]?.image;
    const isProxy = error.directive === 'proxy';
    const evidence: Evidence[] = [
      ...distinctLines(error.hits).map((h) => logEvidence(DNS_NAMESPACE, h.pod.metadata?.name ?? '', h.container, h.previous, [h.line])),
      ...(quoted !== undefined
        ? [{ type: 'object' as const, text: `ConfigMap kube-system/coredns Corefile line ${error.line}: \`${quoted.trim()}\``, command: kubectl.get(subject) }]
        : [{ type: 'object' as const, text: 'ConfigMap kube-system/coredns Corefile (the line is not named by the error)', command: kubectl.get(subject) }]),
      ...failing.slice(0, 2).map((p): Evidence => ({ type: 'object', text: podStateText(p, ctx.now), command: kubectl.describe(refOf('Pod', p)) })),
    ];
    if (image) evidence.push({ type: 'object', text: `deployment/${deployRef.name} -n ${DNS_NAMESPACE} image ${image}`, command: kubectl.get(deployRef) });

    const explains = coreDnsExplains(view, pods, subject, deployRef);
    const at = error.line !== undefined ? `line ${error.line}` : `the ${error.plugin ?? 'failing'} directive`;
    const where = error.line !== undefined ? `line ${error.line}${quoted !== undefined ? ` (\`${quoted.trim()}\`)` : ''}` : `its ${error.plugin ?? 'failing'} directive`;
    const why = isProxy
      ? ' The `proxy` plugin was removed in CoreDNS 1.5.0; `forward` replaces it (a Corefile carried over from an old release, or copied from an old guide).'
      : error.plugin === 'forward'
        ? ' A forward target must be an IP address (with an optional port) or a resolv.conf-style file that exists in the CoreDNS container.'
        : /unknown property 'upstream'|unknown property 'resyncperiod'/.test(error.message)
          ? ' That option of the kubernetes plugin was removed in CoreDNS 1.7.0.'
          : '';
    const finding: FindingDraft = {
      code: isProxy ? 'DNS-COREFILE-PROXY' : 'DNS-COREFILE-PARSE',
      severity: ready.length === 0 && !error.latent ? 'critical' : 'warning',
      title: error.latent
        ? `CoreDNS refused the edited Corefile at ${at} and still serves the previous one`
        : isProxy
          ? "Corefile still uses `proxy`: CoreDNS ≥ 1.5 refuses it (Unknown directive 'proxy')"
          : `CoreDNS refuses its Corefile at ${at}`,
      summary:
        `${error.hits.length > 0 ? `CoreDNS ${error.latent ? 'logs' : 'exits with'} \`${error.hits[0]!.line.replace(/^.*?((plugin\/[\w-]+: )?\S+:\d+ - Error during parsing|plugin\/[\w-]+: )/, '$1')}\`` : `The Corefile uses \`proxy\` and CoreDNS (${image ?? 'image'}) crash-loops`}: ` +
        `the fault is ConfigMap kube-system/coredns at ${where}.${why} ` +
        (error.latent
          ? 'Its reload plugin kept the Corefile CoreDNS started with, so DNS works for now, but every CoreDNS pod that starts (a rollout, a node drain, an eviction) reads the edited one and crash-loops.'
          : `${failing.length} of ${pods.length} CoreDNS pods are failing${ready.length === 0 ? ', so cluster DNS is down' : ''}.`),
      subject,
      evidence,
      rootCause: true,
      explains,
    };
    const fixed = correctedCorefile(corefile, error, coreDnsVersion(image));
    if (fixed !== undefined && cm) {
      const dropped = corefileLines(corefile).length - corefileLines(fixed).length;
      const changes = [
        ...(/^\s*proxy\s/m.test(corefile) ? ['replace the removed `proxy` directive with `forward`'] : []),
        ...(dropped > 0 ? [`delete the ${dropped} kubernetes option line${dropped > 1 ? 's' : ''} removed in CoreDNS 1.7.0 (upstream / resyncperiod)`] : []),
      ];
      finding.plan = makePlan({
        summary: `In the Corefile, ${changes.join(' and ')} (everything else unchanged)`,
        risk: 'low',
        effect: error.latent
          ? 'The kubelet refreshes the mounted Corefile within about a minute and the reload plugin loads it; no CoreDNS pod restarts.'
          : 'The kubelet refreshes the mounted Corefile within about a minute; the crash-looping CoreDNS pods read it on their next restart and start serving.',
        operations: [
          {
            action: 'patch',
            target: { ...subject, apiVersion: 'v1' },
            patchType: 'json',
            patch: testAndReplace('/data/Corefile', corefile, fixed),
            ...(cm.metadata?.resourceVersion ? { resourceVersion: cm.metadata.resourceVersion } : {}),
          },
        ],
        verify: { check: ID, subject, waitFor: 'none' },
      });
      finding.advice = [error.latent ? DO_NOT_RESTART : `To restart CoreDNS at once instead of waiting for its back-off: kubectl -n kube-system rollout restart deployment ${deployRef.name}`];
    } else {
      finding.advice = [
        isProxy
          ? 'The `proxy` block has options: rewrite it as `forward . <targets>` by hand (forward has no fail_timeout/protocol; see https://coredns.io/plugins/forward): kubectl -n kube-system edit configmap coredns'
          : `Correct ${at} of the Corefile: kubectl -n kube-system edit configmap coredns`,
        error.latent ? DO_NOT_RESTART : `Then: kubectl -n kube-system rollout restart deployment ${deployRef.name}`,
      ];
    }
    return [finding];
  },
};
