// Known-good baseline size (issue 18): one live read of the loaded namespace, its slim baseline
// as JSON and as stored (gzipped, BaselineStore), and the time to take and compare it.
import { KubeApi } from '../src/cluster/kube-api';
import { loadKubeConfig } from '../src/cluster/kubeconfig';
import { LiveReader } from '../src/cluster/live-reader';
import { KINDS } from '../src/domain/kube-types';
import { changesSince } from '../src/engine/changes-since';
import { INFRA_NAMESPACES } from '../src/engine/infra-namespaces';
import { takeBaseline } from '../src/engine/take-baseline';
import { BaselineStore } from '../src/store/baseline-store';
import { nowMs } from './stats';

export interface BaselineBench {
  namespace: string;
  services: number;
  objects: number;
  jsonBytes: number;
  storedBytes: number;
  takeMs: number;
  compareMs: number;
}

export async function benchBaseline(kubeconfigPath: string, namespace: string): Promise<BaselineBench> {
  const api = await KubeApi.fromKubeConfig(await loadKubeConfig({ file: kubeconfigPath, env: {} }));
  try {
    const view = await new LiveReader(api).read({ namespace, alsoNamespaces: INFRA_NAMESPACES.filter((n) => n !== namespace), kinds: [...KINDS] });
    const t0 = nowMs();
    const baseline = takeBaseline(view, namespace, new Date());
    const t1 = nowMs();
    changesSince(baseline, takeBaseline(view, namespace, new Date()), view);
    const t2 = nowMs();
    return {
      namespace,
      services: view.list('Service', namespace).length,
      objects: baseline.objects.length,
      jsonBytes: Buffer.byteLength(JSON.stringify(baseline)),
      storedBytes: BaselineStore.packedBytes(baseline),
      takeMs: t1 - t0,
      compareMs: t2 - t1,
    };
  } finally {
    api.close();
  }
}
