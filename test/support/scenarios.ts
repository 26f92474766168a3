import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { Finding } from '../../src/domain/finding';
import type { ObjectRef } from '../../src/domain/object-ref';
import type { Report } from '../../src/domain/report';

/** ../shared beside the checkout (CI lays a copy there); NETDOCTOR_SHARED overrides. */
export const SHARED_DIR = process.env.NETDOCTOR_SHARED ?? resolve(__dirname, '..', '..', '..', 'shared');
export const SCENARIO_DIR = join(SHARED_DIR, 'scenarios');
/** The repo's own scenarios (test/scenarios/generate.py derives them from the shared healthy one). */
export const REPO_SCENARIO_DIR = resolve(__dirname, '..', 'scenarios');

export interface ScenarioExpectation {
  description?: string;
  namespace: string;
  rootCause: null | {
    subject?: ObjectRef;
    anyOfSubjects?: ObjectRef[];
    mentions?: string[];
    fixContains?: string;
  };
}

export interface Scenario {
  name: string;
  dir: string;
  expect: ScenarioExpectation;
}

function scenariosIn(parent: string, prefix: string): Scenario[] {
  if (!existsSync(parent)) throw new Error(`scenario folder ${parent} not found (set NETDOCTOR_SHARED)`);
  return readdirSync(parent)
    .sort()
    .filter((name) => existsSync(join(parent, name, 'expect.yaml')))
    .map((name) => ({ name: `${prefix}${name}`, dir: join(parent, name), expect: parse(readFileSync(join(parent, name, 'expect.yaml'), 'utf8')) as ScenarioExpectation }));
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
export function matchesExpectation(f: Finding, want: NonNullable<ScenarioExpectation['rootCause']>): boolean {
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
  return matchesExpectation(first, expect.rootCause) ? undefined : `first root cause ${first.id} (${first.summary}) does not match ${JSON.stringify(expect.rootCause)}`;
}
