// The admin HTTP server: liveness, readiness and Prometheus metrics on a port of its own
// (never the Slack request port), so probes and scrapes work whatever Slack's state is.
//
//   GET /healthz  200 while the process serves HTTP (liveness: a wedged event loop fails it)
//   GET /readyz   200 when every injected readiness probe passes, else 503; JSON body with
//                 each probe's result. 503 as soon as shutdown starts (markShuttingDown).
//   GET /metrics  the injected prom-client Registry in the Prometheus text format
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../domain/run-context';

/** Resolves when ready; rejects (or resolves false) when not. The error is logged; /readyz shows only ok or not. */
export type ReadinessProbe = (() => Promise<void>) | (() => Promise<boolean>);

export interface AdminServerOptions {
  /** 0 picks a free port (tests). */
  port: number;
  /** Default 0.0.0.0; the CLI passes config.adminHost (loopback unless set). */
  host?: string;
  registry: Pick<Registry, 'contentType' | 'metrics'>;
  /** By name, e.g. { redis: redisPing(client), slack: slackAuth(web), cluster: clusterVersion(api) }. */
  readiness?: Record<string, ReadinessProbe>;
  /** Per-probe timeout (default 2000 ms): a hung dependency is reported as not ready, not a hung probe. */
  probeTimeoutMs?: number;
  log?: Logger;
}

export interface ProbeResult {
  ok: boolean;
  error?: string;
}

export interface AdminServer {
  port: number;
  /** From now on /readyz answers 503 (the pod leaves the Service endpoints before it stops). */
  markShuttingDown(): void;
  /** Runs the readiness probes once (what /readyz does). */
  checkReadiness(): Promise<{ ready: boolean; checks: Record<string, ProbeResult> }>;
  close(): Promise<void>;
}

function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name}: no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const probes = options.readiness ?? {};
  const timeoutMs = options.probeTimeoutMs ?? 2000;
  let shuttingDown = false;

  async function checkReadiness(): Promise<{ ready: boolean; checks: Record<string, ProbeResult> }> {
    const entries = await Promise.all(
      Object.entries(probes).map(async ([name, probe]): Promise<[string, ProbeResult]> => {
        try {
          const r: unknown = await withTimeout(Promise.resolve().then((): Promise<unknown> => probe()), timeoutMs, name);
          return [name, r === false ? { ok: false, error: 'not ready' } : { ok: true }];
        } catch (e) {
          return [name, { ok: false, error: e instanceof Error ? e.message : String(e) }];
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    if (shuttingDown) checks.shutdown = { ok: false, error: 'shutting down' };
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }

  const send = (res: http.ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(body);
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') { send(res, 405, 'text/plain', 'method not allowed\n'); return; }
    if (path === '/healthz' || path === '/livez') { send(res, 200, 'text/plain', 'ok\n'); return; }
    if (path === '/readyz') {
      checkReadiness().then(
        (r) => {
          if (!r.ready) options.log?.warn({ checks: r.checks }, 'not ready');
          // Unauthenticated: which probe failed, never its error text (addresses, hostnames, internals).
          const checks = Object.fromEntries(Object.entries(r.checks).map(([name, c]) => [name, { ok: c.ok }]));
          send(res, r.ready ? 200 : 503, 'application/json', JSON.stringify({ status: r.ready ? 'ready' : 'not ready', checks }) + '\n');
        },
        (e: unknown) => {
          options.log?.error({ err: e }, 'readiness check failed');
          send(res, 500, 'text/plain', 'internal error\n');
        },
      );
      return;
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => send(res, 200, options.registry.contentType, text),
        (e: unknown) => {
          options.log?.error({ err: e }, 'metrics collection failed');
          send(res, 500, 'text/plain', 'internal error\n');
        },
      );
      return;
    }
    send(res, 404, 'text/plain', 'not found\n');
  });
  // Probes must not hold connections open across a graceful shutdown.
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  options.log?.info({ port }, 'admin server listening (/healthz, /readyz, /metrics)');

  return {
    port,
    markShuttingDown() {
      shuttingDown = true;
    },
    checkReadiness,
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeIdleConnections();
      });
    },
  };
}

// Probe factories over structural types, so this module imports neither ioredis, Slack nor the k8s client.

/** Redis reachable: PING answers PONG (ioredis: pass the connection the queues use). */
export function redisPing(client: { ping(): Promise<string> }): ReadinessProbe {
  return async () => {
    const pong = await client.ping();
    if (pong !== 'PONG') throw new Error(`redis PING answered ${pong}`);
  };
}

/**
 * Slack auth ok: auth.test succeeds (token valid, app installed). The result is cached for
 * `ttlMs` (default 60 s) so readiness polling stays far below auth.test's rate limit.
 */
export function slackAuth(client: { auth: { test(): Promise<{ ok?: boolean; error?: string }> } }, ttlMs = 60_000, now: () => number = Date.now): ReadinessProbe {
  let last: { at: number; error?: string } | undefined;
  return async () => {
    if (!last || now() - last.at >= ttlMs) {
      try {
        const r = await client.auth.test();
        last = { at: now(), error: r.ok === false ? (r.error ?? 'auth.test failed') : undefined };
      } catch (e) {
        last = { at: now(), error: e instanceof Error ? e.message : String(e) };
      }
    }
    if (last.error) throw new Error(`slack auth.test: ${last.error}`);
  };
}

/** Cluster reachable (workers): any cheap authenticated request, e.g. () => api.request('/version'). */
export function clusterReachable(request: () => Promise<unknown>): ReadinessProbe {
  return async () => {
    await request();
  };
}
