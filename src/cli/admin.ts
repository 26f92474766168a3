// The admin server of the long-running commands (`serve`, `worker`): started before anything
// connects to Redis, Slack or the cluster, so /healthz answers and /readyz says what is missing
// while the process is still starting (or cannot start).
import { type AdminServer, type ReadinessProbe, startAdminServer } from '../observability/health';
import { type Metrics, type MetricsSnapshot, mergedRegistry } from '../observability/metrics';
import type { Logger } from '../domain/run-context';

/** The admin port cannot be bound (in use, not permitted): the operator's to fix, one line, exit 2. */
export class AdminPortError extends Error {
  readonly code = 'admin_port_unavailable';
  constructor(port: number, cause: Error) {
    super(`cannot listen on the admin port ${port} (NETDOCTOR_ADMIN_PORT): ${cause.message}`);
    this.name = 'AdminPortError';
  }
}

export interface AdminOptions {
  /** Port of /healthz, /readyz and /metrics (config.adminPort; 0 picks a free one). */
  port: number;
  /** Bind address (config.adminHost: loopback unless set; the chart sets the pod IP for the kubelet's probes). */
  host?: string;
  metrics: Metrics;
  /** Series kept in another thread's registry (serve's workers), merged into each scrape. */
  threadMetrics?: () => Promise<MetricsSnapshot>;
  readiness: Record<string, ReadinessProbe>;
  log: Logger;
  /** Told the port once the server listens (tests pass port 0). */
  onListening?: (port: number) => void;
}

export async function startAdmin(options: AdminOptions): Promise<AdminServer> {
  let admin: AdminServer;
  try {
    admin = await startAdminServer({
      port: options.port,
      ...(options.host ? { host: options.host } : {}),
      registry: options.threadMetrics ? mergedRegistry(options.metrics.registry, options.threadMetrics) : options.metrics.registry,
      readiness: options.readiness,
      log: options.log.child({ component: 'admin' }),
    });
  } catch (e) {
    throw new AdminPortError(options.port, e as Error);
  }
  options.onListening?.(admin.port);
  return admin;
}

/** Where shutdown signals come from (the process; tests pass an EventEmitter). */
export interface SignalSource {
  once(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  removeListener(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
}

/** Resolves with the first SIGTERM or SIGINT: the long-running commands then stop gracefully. */
export function untilSignal(signals: SignalSource): Promise<string> {
  return new Promise((resolve) => {
    const onTerm = (): void => done('SIGTERM');
    const onInt = (): void => done('SIGINT');
    const done = (name: string): void => {
      signals.removeListener('SIGTERM', onTerm);
      signals.removeListener('SIGINT', onInt);
      resolve(name);
    };
    signals.once('SIGTERM', onTerm);
    signals.once('SIGINT', onInt);
  });
}
