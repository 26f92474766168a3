import { KubeApi } from '../../src/cluster/kube-api';
import { loadKubeConfig } from '../../src/cluster/kubeconfig';
import { LiveReader } from '../../src/cluster/live-reader';
import { CHECKS } from '../../src/checks';
import type { Report } from '../../src/domain/report';
import { silentLogger } from '../../src/domain/run-context';
import { diagnose } from '../../src/engine/diagnose';
import { loadWorkflows, type Workflow } from '../../src/engine/workflow';

/** The admin KubeApi of the test control plane (integration project's globalSetup). */
export async function adminApi(): Promise<KubeApi> {
  const file = process.env.NETDOCTOR_TEST_KUBECONFIG;
  if (!file) throw new Error('NETDOCTOR_TEST_KUBECONFIG not set: run through the integration jest project');
  return KubeApi.fromKubeConfig(await loadKubeConfig({ file, env: {} }));
}

export const namespaceTriage = (): Workflow => loadWorkflows(CHECKS).get('namespace-triage')!;

/** A live diagnosis of one namespace through the real apiserver. */
export async function diagnoseLive(api: KubeApi, namespace: string, workflow: Workflow = namespaceTriage()): Promise<Report> {
  return diagnose({ runId: 'test', log: silentLogger, clock: () => new Date() }, new LiveReader(api), workflow, { namespace });
}
