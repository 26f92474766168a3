import { type Job, UnrecoverableError } from 'bullmq';
import { NetdoctorError } from '../domain/errors';
import { type RemediationDeps, type RemediationResult, runRemediation } from '../remediation/run-remediation';
import { parseRemediateJob } from './jobs';

/**
 * The remediate processor. The queue never retries it (attempts 1, maxStalledCount 0): a run
 * that dies mid-way ends failed and a human looks, because a second automatic write could act
 * on a changed cluster.
 */
export function remediateProcessor(deps: RemediationDeps): (job: Job) => Promise<RemediationResult> {
  return async (job) => {
    const data = parseRemediateJob(job.data, deps.cluster);
    try {
      return await runRemediation(deps, data, deps.log.child({ jobId: job.id, queue: 'remediate' }));
    } catch (e) {
      if (e instanceof NetdoctorError && e.code === 'plan_unavailable') throw new UnrecoverableError(e.message);
      throw e;
    }
  };
}
