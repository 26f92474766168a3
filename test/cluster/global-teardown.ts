// jest globalTeardown: stops what global-setup.ts started (same process, so the handles
// are on globalThis). Processes are killed by process group.
import { HANDLE_KEY, type TestEnvironmentHandles } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const h = (globalThis as Record<string, unknown>)[HANDLE_KEY] as TestEnvironmentHandles | undefined;
  if (!h) return;
  delete (globalThis as Record<string, unknown>)[HANDLE_KEY];
  await Promise.allSettled([h.redis.stop(), h.cluster.stop()]);
}
