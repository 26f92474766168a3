// A private, throw-away redis-server for tests: free 127.0.0.1 port, no persistence,
// own process group, work dir under the same stale-run sweep as the control plane.
// Never touches the machine's default redis on 6379.
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './control-plane';

export interface TestRedis {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write('PING\r\n'));
    s.setTimeout(1000);
    s.on('data', (d) => {
      resolve(d.toString().startsWith('+PONG'));
      s.destroy();
    });
    s.on('timeout', () => {
      resolve(false);
      s.destroy();
    });
    s.on('error', () => resolve(false));
  });
}

export async function startRedis(opts: { binary?: string; tmpRoot?: string; timeoutMs?: number } = {}): Promise<TestRedis> {
  const binary = opts.binary ?? process.env.NETDOCTOR_REDIS_SERVER ?? 'redis-server';
  try {
    execFileSync(binary, ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(`test redis: cannot run ${binary} (install redis-server or set NETDOCTOR_REDIS_SERVER)`);
  }
  const dir = fs.mkdtempSync(path.join(opts.tmpRoot ?? os.tmpdir(), 'netdoctor-cp-redis-'));
  const port = await freePort();
  const logFile = path.join(dir, 'redis.log');
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'], {
    detached: true,
    stdio: ['ignore', fd, fd],
    cwd: dir,
  });
  fs.closeSync(fd);
  let exited = false;
  child.on('exit', () => (exited = true));
  child.on('error', () => (exited = true));
  fs.writeFileSync(path.join(dir, 'owner.json'), JSON.stringify({ ownerPid: process.pid, pids: [child.pid] }));
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* gone */
    }
  };
  const onExit = () => kill('SIGKILL');
  process.on('exit', onExit);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = (sig: NodeJS.Signals) => {
    onExit();
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  };
  for (const sig of signals) process.once(sig, onSignal);
  const stop = async () => {
    if (!exited) {
      kill('SIGTERM');
      for (let i = 0; i < 100 && !exited; i++) await new Promise((r) => setTimeout(r, 50));
      if (!exited) kill('SIGKILL');
    }
    process.removeListener('exit', onExit);
    for (const sig of signals) process.removeListener(sig, onSignal);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  while (!(await ping(port))) {
    if (exited || Date.now() > deadline) {
      const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2000) : '';
      await stop();
      throw new Error(`test redis did not start on 127.0.0.1:${port}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid!, stop };
}
