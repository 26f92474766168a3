// The wiring the remediation integration tests share: workers with remediation on a live apiserver
// (reads with the admin kubeconfig, writes through `writeKubeconfig`), a producer, a Redis client, and
// the deps a click's decision needs. Each test keeps its own scenario, RBAC and assertions.
import { Cluster } from 'ioredis';
import { KubeApi } from '../../src/cluster/kube-api';
import { loadKubeConfig } from '../../src/cluster/kubeconfig';
import { KubeWriter } from '../../src/cluster/kube-writer';
import { LiveReader } from '../../src/cluster/live-reader';
import type { Config } from '../../src/config';
import { silentLogger } from '../../src/domain/run-context';
import type { Metrics } from '../../src/observability/metrics';
import type { DecisionDeps } from '../../src/remediation/decide-plan';
import { AuditLog, auditKey, refusedClicksKey } from '../../src/store/audit-log';
import { PlanLedger } from '../../src/store/plan-ledger';
import { Producer, producerOptions } from '../../src/queue/queues';
import { type RedisClient, redisClient } from '../../src/queue/redis';
import type { RecordingSurface } from '../../src/cli/console-surface';
import { policyFromConfig } from '../../src/cli/approval-policy';
import { type RunningWorkers, startWorkers } from '../../src/queue/workers';

export interface RemediationHarness {
  workers: RunningWorkers;
  producer: Producer;
  /** A client of the configured mode (one node, Sentinel or Cluster). */
  redis: RedisClient;
  deps: DecisionDeps & { audit: AuditLog };
  /** Stops the workers and the producer, deletes the test's Redis keys. */
  close(): Promise<void>;
}

export async function startRemediationHarness(options: {
  config: Config;
  surface: RecordingSurface;
  cluster: string;
  readKubeconfig: string;
  writeKubeconfig: string;
  metrics?: Metrics;
}): Promise<RemediationHarness> {
  const { config, surface } = options;
  const connect = async (file: string) => KubeApi.fromKubeConfig(await loadKubeConfig({ file, env: {} }));
  const policy = policyFromConfig(config);
  const workers = await startWorkers({
    config,
    surface,
    log: silentLogger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    readerFor: async () => {
      const api = await connect(options.readKubeconfig);
      return Object.assign(new LiveReader(api, { cluster: options.cluster }), { close: () => api.close() });
    },
    remediation: {
      surface,
      policy,
      verifyTimeoutMs: 60_000,
      writerFor: async () => {
        const api = await connect(options.writeKubeconfig);
        return Object.assign(new KubeWriter(api), { close: () => api.close() });
      },
    },
  });
  const producer = await Producer.connect(producerOptions(config));
  const redis = redisClient(config.redis, 'worker');
  const deps = {
    ledger: new PlanLedger(redis, config.queuePrefix, config.reportTtlSeconds),
    loadPlan: (cluster: string, id: string) => producer.loadPlan(cluster, id),
    enqueue: (job: Parameters<Producer['enqueueRemediate']>[0], approvalId: string) => producer.enqueueRemediate(job, approvalId),
    surface,
    audit: new AuditLog(redis, auditKey(config.queuePrefix), silentLogger),
    refusals: new AuditLog(redis, refusedClicksKey(config.queuePrefix), silentLogger),
    policy,
    clock: () => new Date(),
    log: silentLogger,
  };
  return {
    workers,
    producer,
    redis,
    deps,
    async close() {
      await workers.close();
      await producer.close();
      // Hash-tagged keys start with `{`: the prefix is inside them. A Cluster's KEYS sees one node,
      // and one DEL may not span slots: each master is asked, each key deleted on its own.
      for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
        const keys = await node.keys(`*${config.queuePrefix}*`);
        await Promise.all(keys.map((key) => node.del(key)));
      }
      await redis.quit();
    },
  };
}
