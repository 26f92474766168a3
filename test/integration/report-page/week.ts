import { join } from 'node:path';
import { EXAMPLES_DIR, REPO_SCENARIO_DIR } from '../../support/scenarios';

/** A week of a cluster: faults come and go (each day's dump is what the cluster looked like that day). */
export const WEEK = [
  ['2026-11-24', join(EXAMPLES_DIR, 'cni-lab')],
  ['2026-11-25', join(EXAMPLES_DIR, 'cni-lab')],
  ['2026-11-26', join(EXAMPLES_DIR, 'kube-proxy-lab')],
  ['2026-11-27', join(REPO_SCENARIO_DIR, 'dns-loop')],
  ['2026-11-28', join(REPO_SCENARIO_DIR, 'netpol-deny')],
  ['2026-11-29', join(REPO_SCENARIO_DIR, 'svc-target-port')],
  ['2026-11-30', join(EXAMPLES_DIR, 'kube-proxy-lab')],
].map(([day, dumpDir]) => ({ day: day!, dumpDir: dumpDir! }));
