import { writeFileSync } from 'node:fs';
import { DumpReader } from '../cluster/dump-reader';
import { renderIntent } from '../checks/support/intent';
import type { ClusterReader } from '../domain/cluster-view';
import { NetdoctorError } from '../domain/errors';
import { KINDS } from '../domain/kube-types';
import { INFRA_NAMESPACES } from '../engine/infra-namespaces';
import { intentOf } from '../engine/intent-of';
import type { CliIo } from './io';

/**
 * `netdoctor intent init <namespace>`: writes the namespace's intent as the cluster shows it now
 * (run it while the namespace is healthy), to --out FILE or stdout.
 */
export async function intentInit(namespace: string | undefined, values: { from?: string; out?: string }, io: CliIo, live: () => Promise<{ reader: ClusterReader; close(): void }>): Promise<void> {
  if (!namespace) throw new NetdoctorError('bad_input', 'intent init takes one namespace');
  const source = values.from ? { reader: await DumpReader.open(values.from), close: () => undefined } : await live();
  const reader = source.reader;
  try {
    if (!(await reader.namespaceExists(namespace))) throw new NetdoctorError('unknown_namespace', `namespace "${namespace}" does not exist`);
    const view = await reader.read({ namespace, alsoNamespaces: INFRA_NAMESPACES.filter((n) => n !== namespace), kinds: [...KINDS] });
    const text = renderIntent(namespace, intentOf(view, namespace));
    if (values.out) {
      writeFileSync(values.out, text);
      io.stderr(`wrote the intent of ${namespace} to ${values.out}\n`);
    } else io.stdout(text);
  } finally {
    source.close();
  }
}
