import { DumpReader } from './dump-reader';
import { KubeApi } from './kube-api';
import { loadKubeConfig } from './kubeconfig';
import { LiveReader } from './live-reader';
import { type Config, kubeEnv } from '../config';
import { NetdoctorError } from '../domain/errors';
import type { LeasedReader, ReaderFactory } from '../domain/cluster-view';
import type { WriterFactory } from '../domain/cluster-writer';
import { KubeWriter } from './kube-writer';

function only(served: string, cluster: string): void {
  if (cluster !== served) throw new NetdoctorError('bad_input', `unknown cluster "${cluster}": this worker serves cluster "${served}"`);
}

/** Production: a live reader per run on the kubeconfig (or the pod's ServiceAccount); its connections close with the run. */
export function liveReaderFor(config: Config): ReaderFactory {
  return async (cluster) => {
    only(config.cluster, cluster);
    const kc = await loadKubeConfig({ context: config.kubeContext, env: kubeEnv(config) });
    const api = await KubeApi.fromKubeConfig(kc);
    const reader: LeasedReader = Object.assign(new LiveReader(api, { cluster }), { close: () => api.close() });
    return reader;
  };
}

/** Production: a writer per remediation run on the same credentials as the reader (the opt-in remediator role). */
export function liveWriterFor(config: Config): WriterFactory {
  return async (cluster) => {
    only(config.cluster, cluster);
    const api = await KubeApi.fromKubeConfig(await loadKubeConfig({ context: config.kubeContext, env: kubeEnv(config) }), 'netdoctor-remediation/0.1');
    return Object.assign(new KubeWriter(api), { close: () => api.close() });
  };
}

/** Offline: every run reads the same dump directory (demos, `netdoctor worker --from DIR`). */
export function dumpReaderFor(served: string, dir: string): ReaderFactory {
  return (cluster) => {
    only(served, cluster);
    return DumpReader.open(dir);
  };
}
