// Benchmark 5's load generator, in a process of its own (forked with IPC by bench/slack.ts), so
// neither the emulated Slack nor the bench's bookkeeping share its event loop. Each `round`
// message sends `count` signed slash commands with `concurrency` in flight and answers with each
// request's status and time from the first byte written to the end of the response. Requests are
// signed and connections opened before the clock starts, and connections are kept alive (plain
// node:http; `fetch` added tens of ms per request here), as an ingress in front of the receiver
// keeps its upstream connections; Socket Mode has no per-command connection at all.
import * as http from 'node:http';
import { pool } from './stats';
import { type SignedCommand, signedCommand } from './slack-request';

export interface LoadRound {
  type: 'round';
  url: string;
  secret: string;
  text: string;
  /** The emulator's response_url prefix; the trigger id is appended. */
  responseUrl: string;
  count: number;
  concurrency: number;
}

export interface LoadResult {
  type: 'done';
  results: { status: number; ms: number }[];
}

function post(agent: http.Agent, url: URL, c: SignedCommand): Promise<{ status: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { ...c.headers, 'content-length': Buffer.byteLength(c.body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
      },
    );
    req.on('error', reject);
    req.end(c.body);
  });
}

/**
 * One round: its own agent, its connections opened by untimed `help` commands (the receiver's
 * cheapest answer), then the timed commands. An agent kept between rounds would reuse sockets the
 * receiver closes after 5 s idle (Node's keepAliveTimeout): "socket hang up".
 */
async function round(m: LoadRound): Promise<LoadResult['results']> {
  const url = new URL(m.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: m.concurrency });
  try {
    const warmUp = Array.from({ length: m.concurrency }, () => signedCommand(m.secret, 'help', (id) => m.responseUrl + id));
    await pool(warmUp.length, m.concurrency, (i) => post(agent, url, warmUp[i]!));
    const commands = Array.from({ length: m.count }, () => signedCommand(m.secret, m.text, (id) => m.responseUrl + id));
    return await pool(m.count, m.concurrency, (i) => post(agent, url, commands[i]!));
  } finally {
    agent.destroy();
  }
}

process.on('message', (m: LoadRound) => {
  round(m).then(
    (results) => process.send!({ type: 'done', results } satisfies LoadResult),
    (e: unknown) => {
      process.stderr.write(`ack-load failed: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
});
