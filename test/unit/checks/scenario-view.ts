import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterSnapshot } from '../../../src/cluster/snapshot';
import type { FindingDraft } from '../../../src/domain/finding';
import type { Check } from '../../../src/domain/check';
import { SCENARIO_DIR } from '../../support/scenarios';
import { viewOf } from '../../support/view';

export const SCENARIOS = SCENARIO_DIR;

/** A shared scenario (objects.yaml + logs/<ns>/<pod>/<container>[.previous].log) as a ClusterView fixture. */
export function scenarioView(name: string): ClusterSnapshot {
  const dir = join(SCENARIOS, name);
  const logs: Record<string, string> = {};
  const logDir = join(dir, 'logs');
  if (existsSync(logDir)) {
    for (const ns of readdirSync(logDir)) {
      for (const pod of readdirSync(join(logDir, ns))) {
        for (const file of readdirSync(join(logDir, ns, pod))) {
          const m = /^(.+?)(\.previous)?\.log$/.exec(file);
          if (m) logs[`${ns}/${pod}/${m[1]}${m[2] ? '#previous' : ''}`] = readFileSync(join(logDir, ns, pod, file), 'utf8');
        }
      }
    }
  }
  return viewOf(readFileSync(join(dir, 'objects.yaml'), 'utf8'), logs);
}

export function scenarioNamespace(name: string): string {
  return /^namespace:\s*(\S+)/m.exec(readFileSync(join(SCENARIOS, name, 'expect.yaml'), 'utf8'))?.[1] ?? 'default';
}

/** Runs a check over a scenario, on its target namespace or cluster-wide. */
export function runOn(check: Check, name: string, scope: 'target' | 'cluster' = 'target'): FindingDraft[] {
  const namespace = scope === 'target' ? scenarioNamespace(name) : undefined;
  return check.run({ view: scenarioView(name), namespace, now: new Date('2026-03-01T07:00:00Z') });
}

export const scenarioNames = (): string[] => (existsSync(SCENARIOS) ? readdirSync(SCENARIOS).filter((d) => existsSync(join(SCENARIOS, d, 'objects.yaml'))) : []);

export const loud = (findings: FindingDraft[]): FindingDraft[] => findings.filter((f) => f.severity !== 'info');
