// A counting reverse proxy in front of the bench's apiserver: HTTPS on loopback with a serving
// certificate of the cluster's CA (so clients keep the kubeconfig's CA and client certificate
// unchanged), forwarded with the kubeconfig's client certificate. Any client given its kubeconfig
// (netdoctor, k8sgpt) has every request counted the same way, discovery and log reads included.
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { credsFromKubeconfig } from './kube-client';

export interface CountingProxy {
  /** The apiserver's kubeconfig with the proxy as its server. */
  kubeconfigPath: string;
  /** Requests since the last take(), by "METHOD path" (namespace names kept), then reset. */
  take(): { calls: number; byPath: Record<string, number> };
  stop(): Promise<void>;
}

/** `serving`: a cert/key for 127.0.0.1 signed by the cluster's CA (the test PKI's kubelet serving pair). */
export async function startCountingProxy(kubeconfig: string, serving: { cert: string; key: string }, dir: string): Promise<CountingProxy> {
  const creds = credsFromKubeconfig(kubeconfig);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 32, ca: creds.ca, cert: creds.cert, key: creds.key });
  let byPath: Record<string, number> = {};
  const server = https.createServer({ cert: fs.readFileSync(serving.cert), key: fs.readFileSync(serving.key) }, (req, res) => {
    const key = `${req.method} ${(req.url ?? '/').split('?')[0]}`;
    byPath[key] = (byPath[key] ?? 0) + 1;
    const headers = { ...req.headers, host: creds.server.host };
    const up = https.request({ host: creds.server.hostname, port: creds.server.port, path: req.url, method: req.method, headers, agent }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      ures.pipe(res);
    });
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`counting proxy: ${e.message}`);
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kubeconfigPath = path.join(dir, 'counting-proxy.kubeconfig');
  const kc = parse(fs.readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
  for (const c of kc.clusters) c.cluster.server = `https://127.0.0.1:${port}`;
  fs.writeFileSync(kubeconfigPath, stringify(kc), { mode: 0o600 });
  return {
    kubeconfigPath,
    take: () => {
      const out = { calls: Object.values(byPath).reduce((a, b) => a + b, 0), byPath };
      byPath = {};
      return out;
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
