import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { Finding } from '../../src/domain/finding';
import type { ObjectRef } from '../../src/domain/object-ref';
import type { Report } from '../../src/domain/report';

/** ../shared beside the checkout (CI lays a copy there); NETDOCTOR_SHARED overrides. */
export const SHARED_DIR = process.env.NETDOCTOR_SHARED ?? resolve(__dirname, '..', '..', '..', 'shared');
export const SCENARIO_DIR = join(SHARED_DIR, 'scenarios');
/** The repo's own scenarios: committed fixtures, each a broken variant of the shared healthy one. */
export const REPO_SCENARIO_DIR = resolve(__dirname, '..', 'scenarios');
/** The two seed labs, kept in the repo (examples/) so tests of the CLI and renderers need no ../shared. */
export const EXAMPLES_DIR = resolve(__dirname, '..', '..', 'examples');

/**
 * Whether ../shared is there. `npm test` requires it (scripts/test.sh sets NETDOCTOR_REQUIRE_SHARED);
 * `npm run test:unit` on a bare clone skips the shared-scenario tests and says so.
 */
export const SHARED_PRESENT = existsSync(SCENARIO_DIR);
if (!SHARED_PRESENT && process.env.NETDOCTOR_REQUIRE_SHARED === '1') {
  throw new Error(`shared scenarios not found at ${SCENARIO_DIR}: npm test needs ../shared beside the checkout (or NETDOCTOR_SHARED)`);
}
export const SHARED_SKIP_REASON = `skipped: ${SCENARIO_DIR} not found (put ../shared beside the checkout or set NETDOCTOR_SHARED)`;

/** describe() for tests over the shared scenarios; without them, one skipped test that says why (the body is never run). */
export function describeShared(name: string, fn: () => void): void {
  if (SHARED_PRESENT) describe(name, fn);
  else it.skip(`${name} (${SHARED_SKIP_REASON})`, () => undefined);
}

export interface RootCauseExpectation {
  subject?: ObjectRef;
  anyOfSubjects?: ObjectRef[];
  mentions?: string[];
  fixContains?: string;
  /** The fault code the finding must carry. */
  code?: string;
}

export interface ScenarioExpectation {
  description?: string;
  namespace: string;
  /** The first root cause. */
  rootCause: null | RootCauseExpectation;
  /** Subjects of findings that must hang under the first root cause (symptoms it explains). */
  symptoms?: ObjectRef[];
  /** Further independent faults: each must be a root cause of its own, never hung under another. */
  alsoRoots?: RootCauseExpectation[];
}

export interface Scenario {
  name: string;
  dir: string;
  expect: ScenarioExpectation;
}

/** Folders with an expect.yaml under `parent`; a folder without one groups scenarios (e.g. real/healthy). */
function scenariosIn(parent: string, prefix: string): Scenario[] {
  if (!existsSync(parent)) return [];
  return readdirSync(parent, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .flatMap((name) =>
      existsSync(join(parent, name, 'expect.yaml'))
        ? [{ name: `${prefix}${name}`, dir: join(parent, name), expect: parse(readFileSync(join(parent, name, 'expect.yaml'), 'utf8')) as ScenarioExpectation }]
        : scenariosIn(join(parent, name), `${prefix}${name}/`),
    );
}

/** Every scenario found under the shared folder, so new ones are picked up without code changes. */
export function listScenarios(): Scenario[] {
  return scenariosIn(SCENARIO_DIR, '');
}

/** The shared scenarios and the repo's own (named `repo/…`). */
export function listAllScenarios(): Scenario[] {
  return [...listScenarios(), ...scenariosIn(REPO_SCENARIO_DIR, 'repo/')];
}

const sameSubject = (f: Finding, s: ObjectRef): boolean =>
  (['kind', 'namespace', 'name'] as const).every((k) => (f.subject[k] || null) === (s[k] || null));

/** The same judgement as shared/tools/evaluate-scenarios.py, for one root-cause finding. */
export function matchesExpectation(f: Finding, want: RootCauseExpectation): boolean {
  if (want.code && f.code !== want.code) return false;
  const text = JSON.stringify({ title: f.title, summary: f.summary, evidence: f.evidence, subject: f.subject, check: f.check }).toLowerCase();
  const mentioned = (want.mentions ?? []).every((m) => text.includes(m.toLowerCase()));
  if (want.subject && !sameSubject(f, want.subject)) return false;
  if (!want.subject && want.anyOfSubjects && !want.anyOfSubjects.some((s) => sameSubject(f, s)) && !(want.mentions?.length && mentioned)) return false;
  if (!mentioned) return false;
  return !want.fixContains || JSON.stringify(f.plan ?? {}).includes(want.fixContains);
}

/** Why a report does not meet the scenario's expectation, or undefined when it does (first root cause). */
export function scenarioMismatch(report: Report, expect: ScenarioExpectation): string | undefined {
  const loud = report.findings.filter((f) => f.severity !== 'info');
  if (expect.rootCause === null) {
    return loud.length === 0 ? undefined : `expected no warning/critical findings, got: ${loud.map((f) => f.id).join(', ')}`;
  }
  const first = report.findings.find((f) => f.rootCause);
  if (!first) return 'no root cause found';
  if (!matchesExpectation(first, expect.rootCause)) return `first root cause ${first.id} (${first.summary}) does not match ${JSON.stringify(expect.rootCause)}`;
  for (const subject of expect.symptoms ?? []) {
    const symptom = report.findings.find((f) => sameSubject(f, subject) && f.causedBy === first.id);
    if (!symptom) return `no finding on ${JSON.stringify(subject)} hangs under ${first.id}; findings: ${report.findings.map((f) => `${f.id}${f.causedBy ? ` <- ${f.causedBy}` : ''}`).join(', ')}`;
  }
  const roots = report.findings.filter((f) => f.rootCause);
  for (const want of expect.alsoRoots ?? []) {
    if (!roots.some((f) => f !== first && matchesExpectation(f, want))) return `no other root cause matches ${JSON.stringify(want)}; roots: ${roots.map((f) => f.id).join(', ')}`;
  }
  return undefined;
}
