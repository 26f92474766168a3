// Minimal generic REST client for the test cluster: any kind, any subresource
// (e.g. PUT .../pods/x/status), resolved through API discovery. Credentials come from a
// @kubernetes/client-node KubeConfig, so it works with any kubeconfig.
import type { OutgoingHttpHeaders } from 'node:http';
import * as https from 'node:https';
import type * as k8s from '@kubernetes/client-node';

export class RestError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method} ${path}: HTTP ${status}: ${body.slice(0, 500)}`);
  }
  /** Parsed metav1.Status reason (AlreadyExists, NotFound, Conflict, ...), if any. */
  get reason(): string | undefined {
    try {
      return (JSON.parse(this.body) as { reason?: string }).reason;
    } catch {
      return undefined;
    }
  }
}

export interface ResourceInfo {
  /** e.g. /api/v1 or /apis/apps/v1 */
  base: string;
  /** plural resource name, e.g. pods */
  name: string;
  namespaced: boolean;
  kind: string;
}

export type Obj = {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
};

export class Rest {
  private readonly server: string;
  private readonly discovery = new Map<string, Promise<ResourceInfo[]>>();

  constructor(private readonly kc: k8s.KubeConfig) {
    const c = kc.getCurrentCluster();
    if (!c) throw new Error('kubeconfig has no current cluster');
    this.server = c.server.replace(/\/$/, '');
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const text = await this.requestText(method, path, body, contentType, 'application/json');
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async requestText(method: string, path: string, body?: unknown, contentType = 'application/json', accept = '*/*'): Promise<string> {
    const url = new URL(this.server + path);
    const opts: https.RequestOptions = {
      method,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers: { Accept: accept },
    };
    await this.kc.applyToHTTPSOptions(opts);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    if (payload !== undefined) {
      opts.headers = { ...(opts.headers as OutgoingHttpHeaders | undefined), 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) };
    }
    return new Promise((resolve, reject) => {
      const req = https.request(opts, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(data);
          else reject(new RestError(method, path, status, data));
        });
      });
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  private groupResources(apiVersion: string): Promise<ResourceInfo[]> {
    let p = this.discovery.get(apiVersion);
    if (!p) {
      const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      p = this.request<{ resources: { name: string; namespaced: boolean; kind: string }[] }>('GET', base).then((l) =>
        l.resources.filter((r) => !r.name.includes('/')).map((r) => ({ base, name: r.name, namespaced: r.namespaced, kind: r.kind })),
      );
      p.catch(() => this.discovery.delete(apiVersion));
      this.discovery.set(apiVersion, p);
    }
    return p;
  }

  async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const r = (await this.groupResources(apiVersion)).find((x) => x.kind === kind);
    if (!r) throw new Error(`no resource for ${apiVersion} ${kind}`);
    return r;
  }

  /** Collection path (namespace taken from obj when namespaced). */
  async collectionPath(obj: Obj): Promise<string> {
    const r = await this.resource(obj.apiVersion!, obj.kind!);
    const ns = r.namespaced ? obj.metadata?.namespace ?? 'default' : undefined;
    return ns ? `${r.base}/namespaces/${encodeURIComponent(ns)}/${r.name}` : `${r.base}/${r.name}`;
  }

  async objectPath(obj: Obj, subresource?: string): Promise<string> {
    const p = `${await this.collectionPath(obj)}/${encodeURIComponent(obj.metadata!.name!)}`;
    return subresource ? `${p}/${subresource}` : p;
  }

  create<T extends Obj>(obj: T): Promise<T> {
    return this.collectionPath(obj).then((p) => this.request<T>('POST', p, obj));
  }
  get<T extends Obj>(ref: Obj): Promise<T> {
    return this.objectPath(ref).then((p) => this.request<T>('GET', p));
  }
  replace<T extends Obj>(obj: T, subresource?: string): Promise<T> {
    return this.objectPath(obj, subresource).then((p) => this.request<T>('PUT', p, obj));
  }
  mergePatch<T extends Obj>(ref: Obj, patch: unknown, subresource?: string): Promise<T> {
    return this.objectPath(ref, subresource).then((p) => this.request<T>('PATCH', p, patch, 'application/merge-patch+json'));
  }
  async delete(ref: Obj, body: unknown = {}): Promise<void> {
    try {
      await this.request('DELETE', await this.objectPath(ref), body);
    } catch (e) {
      if (e instanceof RestError && e.status === 404) return;
      throw e;
    }
  }
}
