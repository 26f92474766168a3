import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { NetdoctorError } from '../domain/errors';

export interface KubeConfigSource {
  /** An explicit kubeconfig file (`--kubeconfig`). */
  file?: string;
  context?: string;
  /** The process environment, passed in so that only the entry points read it. */
  env: Record<string, string | undefined>;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * The usual places, in kubectl's order: `--kubeconfig`, $KUBECONFIG, ~/.kube/config, then
 * in-cluster. Unlike client-node's loadFromDefault, never falls back to localhost:8080 silently.
 */
export async function loadKubeConfig(source: KubeConfigSource): Promise<KubeConfig> {
  // Loaded on demand: the dump-only CLI path starts faster without the client.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  const envFiles = (source.env.KUBECONFIG ?? '').split(':').filter(Boolean);
  const home = join(source.env.HOME ?? homedir(), '.kube', 'config');
  if (source.file) {
    if (!existsSync(source.file)) throw new NetdoctorError('missing_kubeconfig', `kubeconfig ${source.file} does not exist`);
    kc.loadFromFile(source.file);
  } else if (envFiles.some((f) => existsSync(f))) {
    // As loadFromDefault does, but from source.env (loadFromDefault reads process.env, not the env passed in).
    const [first, ...rest] = envFiles.filter((f) => existsSync(f));
    kc.loadFromFile(first!);
    for (const file of rest) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      kc.mergeConfig(more);
    }
  } else if (existsSync(home)) {
    kc.loadFromFile(home);
  } else if (source.env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    kc.loadFromCluster();
  } else {
    throw new NetdoctorError('missing_kubeconfig', 'no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or run inside a pod');
  }
  if (source.context) {
    if (!kc.getContexts().some((c) => c.name === source.context)) {
      throw new NetdoctorError('missing_kubeconfig', `context "${source.context}" is not in the kubeconfig`);
    }
    kc.setCurrentContext(source.context);
  }
  if (!kc.getCurrentCluster()) throw new NetdoctorError('missing_kubeconfig', 'the kubeconfig has no current context/cluster');
  return kc;
}
