import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free loopback port (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface PrivateRedisOptions {
  /** Append-only file with fsync on every write (for the restart test). */
  aof?: boolean;
  /** Extra `--name value` arguments, e.g. ['--maxmemory-policy', 'allkeys-lru']. */
  args?: string[];
  /** Runs a Sentinel (`redis-server <conf> --sentinel`, the same binary) with these config lines. */
  sentinel?: string[];
}

/**
 * A redis-server of the test's own, on a free port, with its data in a temp dir. Never the
 * machine's default instance. `kill` + `start` simulates a crash and restart on the same port.
 */
export class PrivateRedis {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: PrivateRedisOptions,
  ) {}

  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), mkdtempSync(join(tmpdir(), 'netdoctor-redis-')), options);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--daemonize', 'no'];
    if (this.options.sentinel) {
      // Sentinel rewrites its config file (what it learns about the group), so it gets one of its own.
      const conf = join(this.dir, 'sentinel.conf');
      if (this.child === undefined) writeFileSync(conf, `${this.options.sentinel.join('\n')}\n`);
      args.unshift(conf, '--sentinel');
    } else {
      args.push('--save', '');
      args.push(...(this.options.aof ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
    }
    args.push(...(this.options.args ?? []));
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let failed: Error | undefined;
    child.once('error', (e) => (failed = e));
    for (let i = 0; i < 200 && !failed; i++) {
      if (await accepts(this.port)) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`redis-server did not start on port ${this.port}${failed ? `: ${failed.message}` : ''}`);
  }

  /** SIGKILL: no shutdown save; only what the AOF already has survives. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await this.exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The Redis the integration project's globalSetup started (REDIS_URL). Refuses the machine's
 * default instance on 6379 so a stray REDIS_URL can never point tests at real data.
 */
export function sharedRedisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set: run the integration project (its globalSetup starts a private Redis)');
  if (new URL(url).port === '6379' || new URL(url).port === '') throw new Error(`refusing REDIS_URL ${url}: tests never use the default Redis on 6379`);
  return url;
}
