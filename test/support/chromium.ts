// Debian's chromium for the browser tests (puppeteer-core: no browser download). Outside CI a
// missing chromium skips those tests with a visible line; in CI (.ci/run installs it) it fails them.
import { execFileSync } from 'node:child_process';
import type { Browser } from 'puppeteer-core';
import puppeteer from 'puppeteer-core';

function findChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      // not on PATH
    }
  }
  return undefined;
}

export const CHROMIUM = findChromium();
const IN_CI = Boolean(process.env.CI || process.env.NETDOCTOR_CI);

/** describe() when a browser test can run (or must: in CI), else describe.skip with a line saying why. */
export function describeBrowser(name: string, fn: () => void): void {
  if (CHROMIUM || IN_CI) {
    describe(name, fn);
    return;
  }
  // Visible in the run's output: the browser test did not run here, and why.
  console.warn(`${name}: skipped, no chromium on PATH (apt-get install chromium, or set CHROMIUM_PATH); in CI (.ci/run) it is installed and the test runs`);
  describe.skip(name, fn);
}

export async function launchChromium(): Promise<Browser> {
  if (!CHROMIUM) throw new Error('chromium is not installed: .ci/run installs it (apt-get install chromium)');
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}
