// A bare HTTPS client for the apiserver: keep-alive agent on the kubeconfig's client
// certificate, bodies returned as strings (or only counted). Used to load synthetic objects
// fast and as the "floor" of the namespace benchmark (the same requests with no processing).
import * as fs from 'node:fs';
import * as https from 'node:https';
import { parse } from 'yaml';

export interface Creds {
  server: URL;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** The current context's server and client certificate from a kubeconfig with inline data (the test cluster's). */
export function credsFromKubeconfig(file: string): Creds {
  const kc = parse(fs.readFileSync(file, 'utf8')) as {
    'current-context': string;
    contexts: { name: string; context: { cluster: string; user: string } }[];
    clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const ctx = kc.contexts.find((c) => c.name === kc['current-context'])!.context;
  const cluster = kc.clusters.find((c) => c.name === ctx.cluster)!.cluster;
  const user = kc.users.find((u) => u.name === ctx.user)!.user;
  const b = (s: string) => Buffer.from(s, 'base64');
  return { server: new URL(cluster.server), ca: b(cluster['certificate-authority-data']), cert: b(user['client-certificate-data']), key: b(user['client-key-data']) };
}

export class HttpError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method} ${path}: HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

export interface Answer {
  status: number;
  body: string;
  bytes: number;
}

export class BareClient {
  readonly agent: https.Agent;
  calls = 0;
  bytesRead = 0;

  constructor(
    readonly creds: Creds,
    maxSockets = 16,
  ) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets, ca: creds.ca, cert: creds.cert, key: creds.key });
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * One exchange. `keep: false` only counts the body's bytes (the floor: nothing parsed,
   * nothing kept) except its first `peek` bytes, where a List's metadata.continue sits.
   */
  request(method: string, path: string, body?: unknown, o: { contentType?: string; keep?: boolean; peek?: number } = {}): Promise<Answer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const keep = o.keep !== false;
    this.calls++;
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: this.creds.server.hostname,
          port: this.creds.server.port,
          path,
          method,
          agent: this.agent,
          headers: {
            accept: 'application/json',
            ...(payload !== undefined ? { 'content-type': o.contentType ?? 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let bytes = 0;
          let peeked = 0;
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            if (keep) chunks.push(c);
            else if (peeked < (o.peek ?? 0)) {
              chunks.push(c);
              peeked += c.length;
            }
          });
          res.on('end', () => {
            this.bytesRead += bytes;
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve({ status, body: text, bytes });
            else reject(new HttpError(method, path, status, text));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  async json<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const r = await this.request(method, path, body, { contentType });
    return JSON.parse(r.body) as T;
  }

  /** POST, retried on 429/5xx/connection resets (bulk loading must not die on one hiccup). */
  async create<T = { metadata: { uid: string; name: string } }>(path: string, body: unknown): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.json<T>('POST', path, body);
      } catch (e) {
        const retry = e instanceof HttpError ? e.status === 429 || e.status >= 500 : true;
        if (!retry || attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }

  /** Merge-patch a subresource (status), retried like create. */
  async patchStatus(path: string, status: unknown): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.request('PATCH', `${path}/status`, { status }, { contentType: 'application/merge-patch+json', keep: false });
        return;
      } catch (e) {
        const retry = e instanceof HttpError ? e.status === 409 || e.status === 429 || e.status >= 500 : true;
        if (!retry || attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }
}
