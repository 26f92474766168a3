import { EventEmitter } from 'node:events';
import type { CliIo } from '../../../src/cli/io';
import { main } from '../../../src/cli/main';
import { workerCommand } from '../../../src/cli/worker-command';
import { loadConfig } from '../../../src/config';
import { silentLogger } from '../../../src/domain/run-context';
import { RecordingSurface } from '../../../src/cli/console-surface';
import { RedisSetupError, asTarget, awaitRedis, checkRedis } from '../../../src/queue/redis';
import type { Logger } from '../../../src/domain/run-context';
import { startWorkers } from '../../../src/queue/workers';
import { PrivateRedis, freePort, sharedRedisUrl } from '../../support/redis';
import { SCENARIO_DIR } from '../../support/scenarios';

jest.setTimeout(60_000);

function io(env: Record<string, string>): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (s) => out.push(s), stderr: (s) => err.push(s), env, isTTY: false };
}

let lru: PrivateRedis;

beforeAll(async () => {
  lru = await PrivateRedis.start({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] });
});

afterAll(async () => {
  await lru?.stop();
});

describe('worker startup checks', () => {
  it('refuses a Redis that may evict keys, naming the setting to change', async () => {
    const config = loadConfig({ REDIS_URL: lru.url, NETDOCTOR_CLUSTER: 'lab' });
    const start = startWorkers({ config, surface: new RecordingSurface(), log: silentLogger, readerFor: () => { throw new Error('unused'); } });
    await expect(start).rejects.toThrow(RedisSetupError);
    await expect(start).rejects.toThrow(`Redis at ${lru.url} (REDIS_URL) has maxmemory-policy "allkeys-lru"; netdoctor needs "noeviction"`);
  });

  it('refuses an unreachable Redis with the variable to fix, and hides the password', async () => {
    const url = `redis://:hunter2@127.0.0.1:${await freePort()}`;
    const error = await checkRedis(url, 2000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisSetupError);
    expect((error as Error).message).toMatch(/^cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(REDIS_URL\): /);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('waits at startup for a Redis that comes up late (a pod beside its StatefulSet), logging each try', async () => {
    const late = await PrivateRedis.start();
    await late.kill();
    const warnings: string[] = [];
    const log: Logger = { ...silentLogger, warn: (o: object, msg?: string) => void warnings.push(`${msg ?? ''} ${(o as { err?: string }).err ?? ''}`) };
    try {
      const waiting = awaitRedis(asTarget(late.url), 60, log);
      // Up only once the first try has failed.
      while (warnings.length === 0) await new Promise((r) => setTimeout(r, 50));
      await late.start();
      await expect(waiting).resolves.toMatchObject({ policy: 'noeviction' });
      expect(warnings[0]).toMatch(/^waiting for Redis cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/? \(REDIS_URL\)/);
    } finally {
      await late.stop();
    }
  });

  it('gives up on an unreachable Redis after the wait, and refuses a Redis that may evict keys without waiting', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    await expect(awaitRedis(asTarget(url), 1, silentLogger)).rejects.toThrow(/^cannot reach Redis at /);
    const warnings: string[] = [];
    const log: Logger = { ...silentLogger, warn: (_o: object, msg?: string) => void warnings.push(msg ?? '') };
    await expect(awaitRedis(asTarget(lru.url), 60, log)).rejects.toThrow('has maxmemory-policy "allkeys-lru"');
    expect(warnings).toEqual([]);
  });

  it('accepts the test Redis (noeviction)', async () => {
    await expect(checkRedis(sharedRedisUrl())).resolves.toMatchObject({ policy: 'noeviction' });
  });
});

describe('CLI queue commands', () => {
  const env = () => ({ REDIS_URL: sharedRedisUrl(), NETDOCTOR_QUEUE_PREFIX: `t${process.pid}-cli`, NETDOCTOR_DIGEST_CHANNEL: 'C0DIGEST', LOG_LEVEL: 'silent' });

  it('`netdoctor worker` exits 2 with one clear line when Redis would evict jobs', async () => {
    const cli = io({ ...env(), REDIS_URL: lru.url, NETDOCTOR_ADMIN_PORT: String(await freePort()) });
    expect(await main(['worker', '--cluster', 'lab', '--from', `${SCENARIO_DIR}/healthy`], cli)).toBe(2);
    expect(cli.err.join('')).toMatch(/^netdoctor: Redis at .* has maxmemory-policy "allkeys-lru"/);
  });

  it('`netdoctor worker` rejects a bad cluster name or variable before connecting', async () => {
    const cli = io(env());
    expect(await main(['worker', '--cluster', 'Prod_EU'], cli)).toBe(2);
    expect(cli.err.join('')).toContain('--cluster must be a DNS label');
    const bad = io({ ...env(), NETDOCTOR_REPORT_TTL_SECONDS: 'soon' });
    expect(await main(['status'], bad)).toBe(2);
    expect(bad.err.join('')).toContain('NETDOCTOR_REPORT_TTL_SECONDS must be a positive integer');
  });

  it('`netdoctor worker --from DIR` serves jobs until SIGTERM, `digest` queues one, `status` shows the queues', async () => {
    const signals = new EventEmitter();
    const worker = io(env());
    const running = workerCommand(['--cluster', 'lab', '--from', `${SCENARIO_DIR}/triton-cni-missing`], worker, { signals, adminPort: 0 });

    const digest = io(env());
    expect(await main(['digest', '--cluster', 'lab'], digest)).toBe(0);
    expect(digest.out.join('')).toMatch(/^digest for cluster lab queued as job digest-manual-/);

    // The console surface prints the digest when the worker has run it.
    while (!worker.out.join('').includes('digest lab ')) await new Promise((r) => setTimeout(r, 50));
    expect(worker.out.join('')).toMatch(/digest lab \d{4}-\d\d-\d\d → C0DIGEST: broken; \d+ new, 0 resolved, 0 persisting/);

    const status = io(env());
    expect(await main(['status', '--cluster', 'lab'], status)).toBe(0);
    const text = status.out.join('');
    expect(text).toMatch(new RegExp(`^queue\\s+waiting\\s+active\\s+delayed\\s+failed\\s+workers\\n${env().NETDOCTOR_QUEUE_PREFIX}:lab:diagnose\\s+0\\s+0\\s+0\\s+0\\s+1\\n`));
    expect(text).toMatch(/last digest: \d{4}-.*; next: \d{4}-/);

    signals.emit('SIGTERM');
    expect(await running).toBe(0);
  });
});
