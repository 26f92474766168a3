// Redis topologies of a test's own, on free loopback ports (Debian's redis-server; a Sentinel is
// the same binary run with --sentinel): a three-master Redis Cluster, and a primary with one
// replica watched by three Sentinels. Each waits until it is usable; stop() removes everything.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { PrivateRedis } from './redis';

const run = promisify(execFile);

async function until<T>(what: string, probe: () => Promise<T | undefined>, attempts = 200, everyMs = 50): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function info(port: number, section: string): Promise<string> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    return await client.info(section);
  } finally {
    client.disconnect();
  }
}

/** Three masters, no replicas: `redis-cli --cluster create` spreads the 16384 slots over them. */
export class RedisClusterLab {
  private constructor(readonly nodes: PrivateRedis[]) {}

  static async start(masters = 3): Promise<RedisClusterLab> {
    const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'];
    const nodes = await Promise.all(Array.from({ length: masters }, () => PrivateRedis.start({ args })));
    const lab = new RedisClusterLab(nodes);
    try {
      await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
      for (const n of nodes) await until(`cluster_state:ok on ${n.port}`, async () => (/cluster_state:ok/.test(await clusterInfo(n.port)) ? true : undefined));
    } catch (e) {
      await lab.stop();
      throw e;
    }
    return lab;
  }

  /** REDIS_CLUSTER_NODES (every node; one would do, the rest is discovered). */
  get nodeList(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}

async function clusterInfo(port: number): Promise<string> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    return (await client.call('CLUSTER', 'INFO')) as string;
  } finally {
    client.disconnect();
  }
}

export const SENTINEL_GROUP = 'netdoctor';

/**
 * A primary, one replica and three Sentinels (quorum 2) with short timeouts, so a killed
 * primary is replaced within seconds: down after 1 s, failover timeout 5 s.
 */
export class SentinelLab {
  private constructor(
    readonly primary: PrivateRedis,
    readonly replica: PrivateRedis,
    readonly sentinels: PrivateRedis[],
  ) {}

  static async start(): Promise<SentinelLab> {
    const primary = await PrivateRedis.start();
    const replica = await PrivateRedis.start({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    const conf = [
      `sentinel monitor ${SENTINEL_GROUP} 127.0.0.1 ${primary.port} 2`,
      `sentinel down-after-milliseconds ${SENTINEL_GROUP} 1000`,
      `sentinel failover-timeout ${SENTINEL_GROUP} 5000`,
      `sentinel parallel-syncs ${SENTINEL_GROUP} 1`,
    ];
    const sentinels = await Promise.all([0, 1, 2].map(() => PrivateRedis.start({ sentinel: conf })));
    const lab = new SentinelLab(primary, replica, sentinels);
    try {
      await until('the replica in sync', async () => (/master_link_status:up/.test(await info(replica.port, 'replication')) ? true : undefined));
      // Each Sentinel has found the replica and the other Sentinels (else no quorum at failover).
      for (const s of sentinels) {
        await until(`sentinel ${s.port} to see the group`, async () => {
          const text = await info(s.port, 'sentinel');
          return /status=ok,address=[^,]+,slaves=1,sentinels=3/.test(text) ? true : undefined;
        }, 400);
      }
    } catch (e) {
      await lab.stop();
      throw e;
    }
    return lab;
  }

  /** REDIS_SENTINELS */
  get sentinelList(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  /** Waits until the replica has everything the primary acknowledged (replication is asynchronous). */
  async replicaCaughtUp(): Promise<void> {
    const offset = (text: string, key: string): number => Number(new RegExp(`${key}:(\\d+)`).exec(text)?.[1] ?? -1);
    await until('the replica to catch up', async () => {
      const [p, r] = await Promise.all([info(this.primary.port, 'replication'), info(this.replica.port, 'replication')]);
      return offset(r, 'slave_repl_offset') >= offset(p, 'master_repl_offset') ? true : undefined;
    });
  }

  /** The port the Sentinels name as primary now. */
  async currentPrimaryPort(): Promise<number> {
    const client = new Redis({ port: this.sentinels[0]!.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await client.connect();
      const [, port] = (await client.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_GROUP)) as [string, string];
      return Number(port);
    } finally {
      client.disconnect();
    }
  }

  async stop(): Promise<void> {
    await Promise.all([...this.sentinels, this.replica, this.primary].map((n) => n.stop()));
  }
}
