import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuildScript } from '../../cluster/build-script';

const script = (body: string): string => {
  const file = join(mkdtempSync(join(tmpdir(), 'build-script-')), 'build.sh');
  writeFileSync(file, body);
  return file;
};
const quiet = (): void => undefined;

describe('runBuildScript', () => {
  it('resolves with the last stdout line (the bin dir)', async () => {
    await expect(runBuildScript(script('echo progress >&2\necho first\necho /cache/bin\n'), quiet)).resolves.toBe('/cache/bin');
  });

  it('names the script, its exit status and the tail of its stderr when it fails', async () => {
    const file = script('for i in $(seq 1 100); do echo "line $i" >&2; done\necho "go: module not found" >&2\nexit 3\n');
    const error = await runBuildScript(file, quiet).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`${file} failed (exit status 3)`);
    expect((error as Error).message).toContain('go: module not found');
    expect((error as Error).message).not.toContain('line 50\n');
  });

  it('fails when the script prints no bin dir', async () => {
    await expect(runBuildScript(script('true\n'), quiet)).rejects.toThrow(/failed \(exit status 0\)/);
  });
});
