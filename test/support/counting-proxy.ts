import * as http from 'node:http';
import * as https from 'node:https';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** One request as the proxy forwarded it. */
export interface ProxiedRequest {
  method: string;
  path: string;
  status: number;
}

interface KubeconfigFile {
  clusters: { cluster: { server: string; 'certificate-authority'?: string; 'certificate-authority-data'?: string } }[];
  users: { user: { 'client-certificate'?: string; 'client-key'?: string; 'client-certificate-data'?: string; 'client-key-data'?: string } }[];
}

const fileOrData = (file?: string, data?: string): Buffer | undefined => (file ? readFileSync(file) : data ? Buffer.from(data, 'base64') : undefined);

export interface CountingProxyOptions {
  /**
   * Called with each request as the apiserver's answer arrives, before it is forwarded to the
   * client: a test can SIGKILL the client so that it never sees the answer.
   */
  onResponse?: (request: ProxiedRequest) => void;
}

/**
 * A recording proxy in front of the test apiserver (plain HTTP on loopback → the apiserver
 * with the admin client certificate): counts exactly which requests reach the cluster, e.g.
 * that three clicks and a killed worker yield one PATCH.
 */
export async function startCountingProxy(kubeconfigPath: string, options: CountingProxyOptions = {}): Promise<{ url: string; kubeconfig: string; requests: ProxiedRequest[]; mutations(): ProxiedRequest[]; close(): Promise<void> }> {
  const kc = parse(readFileSync(kubeconfigPath, 'utf8')) as KubeconfigFile;
  const cluster = kc.clusters[0]!.cluster;
  const user = kc.users[0]!.user;
  const target = new URL(cluster.server);
  const agent = new https.Agent({
    ca: fileOrData(cluster['certificate-authority'], cluster['certificate-authority-data']),
    cert: fileOrData(user['client-certificate'], user['client-certificate-data']),
    key: fileOrData(user['client-key'], user['client-key-data']),
    keepAlive: true,
  });
  const requests: ProxiedRequest[] = [];
  const server = http.createServer((req, res) => {
    const upstream = https.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host }, agent },
      (up) => {
        const seen: ProxiedRequest = { method: req.method ?? '', path: req.url ?? '', status: up.statusCode ?? 0 };
        requests.push(seen);
        options.onResponse?.(seen);
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  const kubeconfig = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'proxy', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'proxy', user: {} }],
    contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'proxy' } }],
    'current-context': 'proxy',
  });
  return {
    url,
    kubeconfig,
    requests,
    mutations: () => requests.filter((r) => !['GET', 'HEAD'].includes(r.method) && !/[?&]dryRun=All/.test(r.path) && !r.path.includes('/subjectaccessreviews')),
    close: async () => {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
