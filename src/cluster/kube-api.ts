import * as https from 'node:https';
import * as http from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError, NetdoctorError } from '../domain/errors';

export interface ApiResponse {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Log reads are plain text and can be large: bound what is kept. */
  maxBytes?: number;
}

const USER_AGENT = 'netdoctor/0.1';
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

/**
 * A thin JSON-over-HTTPS client on a KubeConfig's credentials. Raw JSON (not client-node's
 * typed models) so that live objects look exactly like dump objects, every call is counted,
 * and pagination, retries and byte counts are under our control.
 */
export class KubeApi {
  calls = 0;
  bytesRead = 0;
  private readonly agent: https.Agent | http.Agent;

  private constructor(
    private readonly server: URL,
    private readonly tls: https.RequestOptions,
    readonly userAgent: string,
  ) {
    this.agent = server.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 16, ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.rejectUnauthorized, servername: tls.servername }) : new http.Agent({ keepAlive: true });
  }

  static async fromKubeConfig(kc: KubeConfig, userAgent = USER_AGENT): Promise<KubeApi> {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new NetdoctorError('missing_kubeconfig', 'the kubeconfig has no current cluster');
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    return new KubeApi(new URL(cluster.server), opts, userAgent);
  }

  get serverUrl(): string {
    return this.server.toString();
  }

  close(): void {
    this.agent.destroy();
  }

  /** One HTTP exchange; transient failures are retried up to 3 times with backoff (Retry-After honoured). */
  async request(path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.once(path, options);
        if (res.status >= 200 && res.status < 300) return res;
        throw toApiError(res);
      } catch (e) {
        const transient = e instanceof ApiError ? e.transient : TRANSIENT_CODES.has((e as NodeJS.ErrnoException).code ?? '');
        if (!transient || attempt >= 3 || (options.method && options.method !== 'GET')) throw e;
        const wait = e instanceof ApiError && e.retryAfterSeconds ? e.retryAfterSeconds * 1000 : 200 * 2 ** attempt;
        await new Promise((r) => setTimeout(r, Math.min(wait, 5000)));
      }
    }
  }

  async json<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return JSON.parse((await this.request(path, options)).body) as T;
  }

  private once(path: string, options: RequestOptions): Promise<ApiResponse> {
    const url = new URL(path, this.server);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const payload = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const lib = url.protocol === 'https:' ? https : http;
    this.calls++;
    return new Promise((resolve, reject) => {
      const req = lib.request(
        url,
        {
          ...this.tls,
          agent: this.agent,
          method: options.method ?? 'GET',
          headers: {
            ...(this.tls.headers as http.OutgoingHttpHeaders | undefined),
            accept: 'application/json',
            'user-agent': this.userAgent,
            ...(payload !== undefined ? { 'content-type': options.contentType ?? 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          res.on('data', (c: Buffer) => {
            this.bytesRead += c.length;
            if (options.maxBytes === undefined || kept < options.maxBytes) {
              chunks.push(c);
              kept += c.length;
            }
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }
}

function toApiError(res: ApiResponse): ApiError {
  let reason = '';
  let message = res.body.slice(0, 300);
  try {
    const status = JSON.parse(res.body) as { reason?: string; message?: string };
    reason = status.reason ?? '';
    message = status.message ?? message;
  } catch {
    // Not a Status object (e.g. a kubelet's plain-text error through the log proxy): keep the text.
  }
  const retryAfter = Number(res.headers['retry-after']);
  return new ApiError(res.status, reason, `${res.status} ${reason}: ${message}`.trim(), Number.isFinite(retryAfter) ? retryAfter : undefined);
}
