/**
 * Polls until `check` stops throwing and returns its value. Not a timing assertion: the deadline
 * only bounds a broken run, after which the last failure is thrown.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 30_000, pollMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}
