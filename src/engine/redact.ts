import type { ClusterView } from '../domain/cluster-view';
import type { Evidence, Finding } from '../domain/finding';
import type { Plan } from '../domain/plan';

export const REDACTED = '<redacted>';

/**
 * Names that hold a credential: PASSWORD, PASSWD, PWD, SECRET, TOKEN, CREDENTIAL(S), API_KEY, ACCESS_KEY,
 * PRIVATE_KEY, any `*_KEY` / `*Key`. Not names that point at one or describe it (`tokenFile`, `secretName`,
 * `secretKeyRef`, `TOKEN_URL`, `TOKEN_TTL`): their values are paths, references and settings that
 * diagnoses and plans need.
 */
const SECRET_NAME = /passw(?:or)?d|pwd|secret|token|credential|api[-_]?key|access[-_]?key|private[-_]?key|[-_.]key$|[a-z0-9]Key$/i;
const POINTER_NAME = /(?:file|path|ref|name|dir|mount|url|uri|endpoint|host|port|ttl|timeout|expiry|enabled|size|length)s?$/i;
/** Values too plain to be a credential; redacting them everywhere would blank ordinary words. */
const PLAIN_VALUE = /^(?:true|false|yes|no|on|off|none|null|\d+)$/i;

export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name) && !POINTER_NAME.test(name);
}

/** `scheme://user:password@host`: everything between `//` and the last `@` of the authority. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*(?:@[^\s/?#@]*)*@/gi;
/** `NAME=value` / `NAME: value` (env as text, flags, YAML), value quoted or up to a separator. */
const NAMED_VALUE = /([A-Za-z_][\w.-]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s,;&'"}\]]+)/g;
/** `{"name":"DB_PASSWORD","value":"…"}` as JSON carries an env var. */
const JSON_ENV = /("name"\s*:\s*"([^"\\]+)"\s*,\s*"value"\s*:\s*")((?:[^"\\]|\\.)*)(")/g;

/** Shorter values would redact ordinary words everywhere; they are caught by name where they appear as NAME=value. */
const MIN_LITERAL = 4;

/** Literal values of env vars with credential-like names, in every pod template and pod of the view. */
export function secretValuesIn(view: ClusterView): string[] {
  const values = new Set<string>();
  const specs = [
    ...view.list('Pod').map((p) => p.spec),
    ...(['Deployment', 'DaemonSet', 'StatefulSet', 'ReplicaSet'] as const).flatMap((k) => view.list(k).map((w) => w.spec?.template?.spec)),
  ];
  for (const spec of specs) {
    for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
      for (const e of c.env ?? []) if (e.value && e.value.length >= MIN_LITERAL && !PLAIN_VALUE.test(e.value) && looksSecret(e.name)) values.add(e.value);
    }
  }
  return longestFirst(values);
}

/** Secret values longest first, so a value that contains another is replaced whole. */
export const longestFirst = (values: Iterable<string>): string[] => [...values].sort((a, b) => b.length - a.length);

/** A text with credentials replaced: URL userinfo, values of credential-named settings, and the known secret values. */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(URL_USERINFO, `$1${REDACTED}@`);
  out = out.replace(JSON_ENV, (m, head: string, name: string, _value: string, tail: string) => (looksSecret(name) ? `${head}${REDACTED}${tail}` : m));
  out = out.replace(NAMED_VALUE, (m, name: string, sep: string, value: string) => (looksSecret(name) && value !== REDACTED && !value.includes(REDACTED) ? `${name}${sep}${REDACTED}` : m));
  for (const s of secrets) out = out.split(s).join(REDACTED);
  return out;
}

function redactEvidence(e: Evidence, secrets: readonly string[]): Evidence {
  return { ...e, text: redactText(e.text, secrets), ...(e.command !== undefined ? { command: redactText(e.command, secrets) } : {}) };
}

/**
 * A plan whose operations would carry a credential is not proposed: it would be stored, shown in
 * Slack and written to the audit, and a redacted one would write `<redacted>` into the cluster.
 */
function redactPlan(plan: Plan | null, secrets: readonly string[]): { plan: Plan | null; withheld?: string } {
  if (!plan) return { plan };
  const summary = redactText(plan.summary, secrets);
  const ops = JSON.stringify(plan.operations);
  if (redactText(ops, secrets) !== ops) return { plan: null, withheld: summary };
  return { plan: { ...plan, summary, effect: redactText(plan.effect, secrets) } };
}

/**
 * The one place credentials leave the report: every finding's title, summary, evidence, kubectl
 * commands, advice and plan, before any renderer, store, audit or Slack sees the report.
 */
export function redactFindings(findings: readonly Finding[], secrets: readonly string[]): Finding[] {
  return findings.map((f) => {
    const { plan, withheld } = redactPlan(f.plan, secrets);
    return {
      ...f,
      title: redactText(f.title, secrets),
      summary: redactText(f.summary, secrets),
      evidence: f.evidence.map((e) => redactEvidence(e, secrets)),
      advice: [
        ...f.advice.map((a) => redactText(a, secrets)),
        ...(withheld !== undefined
          ? [`${withheld}: netdoctor proposes no plan for it, the change would carry a credential into the plan store, Slack and the audit. Make it by hand (kubectl edit), or move the credential into a Secret (env valueFrom.secretKeyRef) and re-run.`]
          : []),
      ],
      plan,
    };
  });
}
