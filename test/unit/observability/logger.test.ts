import { Writable } from 'node:stream';
import { createLogger, jobLogger } from '../../../src/observability/logger';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => {
    chunks.push(String(c));
    cb();
  } });
  return { stream, lines: () => chunks.map((c) => JSON.parse(c) as Record<string, unknown>) };
}

describe('logger', () => {
  it('censors tokens, secrets, authorization headers and response_urls, also in child loggers', () => {
    const out = capture();
    const root = createLogger({ destination: out.stream });
    const child = jobLogger(root, { jobId: 'diagnose-1', cluster: 'prod-eu', queue: 'diagnose' });
    child.info(
      {
        token: 'xoxb-1',
        slack: { botToken: 'xoxb-2', signingSecret: 'shh', response_url: 'https://hooks.slack.com/x' },
        req: { headers: { authorization: 'Bearer abc', 'x-other': 'ok' } },
        headers: { 'x-slack-signature': 'v0=abc' },
      },
      'event',
    );
    const [line] = out.lines();
    expect(line).toMatchObject({
      jobId: 'diagnose-1',
      cluster: 'prod-eu',
      queue: 'diagnose',
      service: 'netdoctor',
      token: '[Redacted]',
      slack: { botToken: '[Redacted]', signingSecret: '[Redacted]', response_url: '[Redacted]' },
      req: { headers: { authorization: '[Redacted]', 'x-other': 'ok' } },
      headers: { 'x-slack-signature': '[Redacted]' },
    });
    expect(JSON.stringify(line)).not.toMatch(/xoxb|shh|Bearer|hooks\.slack/);
  });

  it('serializes errors and honours the level', () => {
    const out = capture();
    const root = createLogger({ level: 'warn', destination: out.stream });
    root.info({}, 'hidden');
    root.warn({ err: new Error('boom') }, 'shown');
    expect(out.lines()).toEqual([expect.objectContaining({ msg: 'shown', err: expect.objectContaining({ message: 'boom', type: 'Error' }) })]);
  });
});
