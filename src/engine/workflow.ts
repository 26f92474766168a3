import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CHECKS } from '../checks';
import type { Check } from '../domain/check';
import { NetdoctorError } from '../domain/errors';

/**
 * A declarative run definition from workflows/*.yaml: a name, a scope and the checks it runs.
 * When a workflow runs is the caller's business (the slash command, the CLI, the digest's
 * NETDOCTOR_DIGEST_CRON); a file that declares anything else is refused, not half-read.
 */
export interface Workflow {
  name: string;
  scope: 'namespace' | 'cluster';
  /** The checks it runs, resolved against the catalog at load time. */
  checks: Check[];
}

const FIELDS = new Set(['name', 'scope', 'checks']);

/** The directory shipped with the package; the path holds for src/ under ts and for dist/ once built. */
export const DEFAULT_WORKFLOW_DIR = join(__dirname, '..', '..', 'workflows');

function invalid(file: string, why: string): NetdoctorError {
  return new NetdoctorError('invalid_workflow', `workflow ${file}: ${why}`);
}

/** Validates one parsed workflow document against the catalog; errors name the file and the field. */
export function parseWorkflow(file: string, doc: unknown, catalog: readonly Check[]): Workflow {
  if (typeof doc !== 'object' || doc === null) throw invalid(file, 'expected a mapping');
  const d = doc as Record<string, unknown>;
  const unknown = Object.keys(d).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) throw invalid(file, `unknown field ${unknown.map((k) => `\`${k}\``).join(', ')} (a workflow has name, scope and checks)`);
  if (typeof d.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(d.name)) throw invalid(file, '`name` must be kebab-case');
  if (d.scope !== 'namespace' && d.scope !== 'cluster') throw invalid(file, '`scope` must be namespace or cluster');
  let checks: Check[];
  if (d.checks === 'all') checks = [...catalog];
  else if (Array.isArray(d.checks) && d.checks.length > 0) {
    checks = d.checks.map((id: unknown) => {
      const check = catalog.find((c) => c.id === id);
      if (!check) throw invalid(file, `unknown check ${JSON.stringify(id)} (see \`netdoctor checks\`)`);
      return check;
    });
  } else throw invalid(file, '`checks` must be `all` or a non-empty list of check ids');
  return { name: d.name, scope: d.scope, checks };
}

/** Loads and validates every workflow in a directory; fails fast on the first invalid one. */
export function loadWorkflows(catalog: readonly Check[], dir: string = DEFAULT_WORKFLOW_DIR): Map<string, Workflow> {
  const workflows = new Map<string, Workflow>();
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    let doc: unknown;
    try {
      doc = parse(readFileSync(join(dir, file), 'utf8'));
    } catch (e) {
      throw invalid(file, `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    const workflow = parseWorkflow(file, doc, catalog);
    if (workflows.has(workflow.name)) throw invalid(file, `duplicate name ${workflow.name}`);
    workflows.set(workflow.name, workflow);
  }
  return workflows;
}

/** Every workflow in workflows/ over the built-in check catalog. */
export function loadCatalogWorkflows(): Map<string, Workflow> {
  return loadWorkflows(CHECKS);
}

export function pickWorkflow(workflows: Map<string, Workflow>, name: string): Workflow {
  const workflow = workflows.get(name);
  if (!workflow) {
    throw new NetdoctorError('unknown_workflow', `unknown workflow "${name}"; known: ${[...workflows.keys()].join(', ')}`);
  }
  return workflow;
}
