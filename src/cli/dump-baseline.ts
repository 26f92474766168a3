import { DumpReader } from '../cluster/dump-reader';
import { type Baseline, type BaselineStore, CLUSTER_WIDE } from '../domain/baseline';
import { NetdoctorError } from '../domain/errors';
import { KINDS } from '../domain/kube-types';
import { INFRA_NAMESPACES } from '../engine/infra-namespaces';
import { takeBaseline } from '../engine/take-baseline';

/**
 * `--baseline DIR`: an older dump or snapshot stands for the last healthy state on disk. The CLI
 * keeps nothing itself (`netdoctor snapshot` writes the next one), so save is a no-op.
 */
export function dumpBaseline(dir: string): BaselineStore {
  return {
    async latest(_cluster: string, namespace: string): Promise<Baseline> {
      try {
        const reader = await DumpReader.open(dir);
        const clusterWide = namespace === CLUSTER_WIDE;
        if (!clusterWide && !(await reader.namespaceExists(namespace))) throw new NetdoctorError('bad_input', `${dir} holds no namespace "${namespace}"`);
        const scope = clusterWide ? { alsoNamespaces: [], kinds: [...KINDS] } : { namespace, alsoNamespaces: INFRA_NAMESPACES.filter((n) => n !== namespace), kinds: [...KINDS] };
        const view = await reader.read(scope);
        // A dump without timestamps has no clock: the epoch says "some time before".
        return takeBaseline(view, clusterWide ? undefined : namespace, view.observedAt ?? new Date(0));
      } catch (e) {
        // Say which directory: the same reader errors come from --from too.
        if (e instanceof NetdoctorError) throw new NetdoctorError('bad_input', `--baseline: ${e.message}`);
        throw e;
      }
    },
    save: () => Promise.resolve(false),
  };
}
