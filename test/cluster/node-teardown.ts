// jest globalTeardown of the `node` project: stops the node (and cleans the machine), then its control plane.
import { NODE_HANDLE_KEY, type NodeHandles } from './node-setup';

export default async function nodeTeardown(): Promise<void> {
  const h = (globalThis as Record<string, unknown>)[NODE_HANDLE_KEY] as NodeHandles | undefined;
  if (!h) return;
  delete (globalThis as Record<string, unknown>)[NODE_HANDLE_KEY];
  await h.node?.stop();
  await h.cluster.stop();
}
