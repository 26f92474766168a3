// loadKubeConfig reads the environment it is given (the CLI's io.env), never process.env.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeConfig } from '../../../src/cluster/kubeconfig';

const kubeconfig = (name: string, server: string): string => `apiVersion: v1
kind: Config
clusters: [{ name: ${name}, cluster: { server: "${server}" } }]
users: [{ name: ${name}, user: { token: t } }]
contexts: [{ name: ${name}, context: { cluster: ${name}, user: ${name} } }]
current-context: ${name}
`;

describe('loadKubeConfig', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nd-kubeconfig-'));
    writeFileSync(join(dir, 'a'), kubeconfig('alpha', 'https://alpha.example:6443'));
    writeFileSync(join(dir, 'b'), kubeconfig('beta', 'https://beta.example:6443'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('uses KUBECONFIG from the given env, skipping files that do not exist, merging the rest', async () => {
    const kc = await loadKubeConfig({ env: { KUBECONFIG: [join(dir, 'missing'), join(dir, 'a'), join(dir, 'b')].join(':'), HOME: dir } });
    expect(kc.getContexts().map((c) => c.name).sort()).toEqual(['alpha', 'beta']);
    expect(kc.getCluster('alpha')?.server).toBe('https://alpha.example:6443');
  });

  it('falls back to $HOME/.kube/config of the given env', async () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(join(home, '.kube', 'config'), kubeconfig('gamma', 'https://gamma.example:6443'));
    const kc = await loadKubeConfig({ env: { HOME: home } });
    expect(kc.getCurrentCluster()?.server).toBe('https://gamma.example:6443');
  });
});
