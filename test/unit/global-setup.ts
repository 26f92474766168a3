// jest globalSetup for the unit project: says once, up front, when the shared-scenario tests will be skipped.
import { SHARED_PRESENT, SHARED_SKIP_REASON } from '../support/scenarios';

export default function unitGlobalSetup(): void {
  if (!SHARED_PRESENT) process.stderr.write(`\n[unit] shared-scenario tests ${SHARED_SKIP_REASON}\n`);
}
