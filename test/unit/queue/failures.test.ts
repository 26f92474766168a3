import { UnrecoverableError } from 'bullmq';
import { ApiError, NetdoctorError } from '../../../src/domain/errors';
import { backoffStrategy, classify } from '../../../src/queue/failures';

describe('classify', () => {
  it.each([
    [new ApiError(429, 'TooManyRequests', '429', 3), { transient: true, retryAfterMs: 3000 }],
    [new ApiError(503, 'ServiceUnavailable', '503'), { transient: true }],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), { transient: true, reason: 'network error (ECONNRESET)' }],
    [new NetdoctorError('cluster_unreachable', 'cannot reach the apiserver: connect ECONNREFUSED'), { transient: true }],
    [Object.assign(new Error('slack: ratelimited'), { transient: true, retryAfterSeconds: 2 }), { transient: true, retryAfterMs: 2000, reason: 'slack: ratelimited' }],
    [Object.assign(new Error('channel_not_found'), { transient: false }), { transient: false, reason: 'channel_not_found' }],
    [new NetdoctorError('unknown_namespace', 'namespace "x" does not exist'), { transient: false, reason: 'namespace "x" does not exist' }],
    [new UnrecoverableError('bad job data: `cluster` is missing'), { transient: false, reason: 'bad job data: `cluster` is missing' }],
  ])('%s → %j', (err, expected) => {
    expect(classify(err)).toMatchObject(expected);
  });

  it('words 401/403/404 for the user, without the apiserver body', () => {
    const forbidden = new ApiError(403, 'Forbidden', '403 Forbidden: services is forbidden: User "system:serviceaccount:nd:nd" cannot list resource "services" in API group "" in the namespace "triton"');
    expect(classify(forbidden, 'triton')).toEqual({ transient: false, reason: "the bot's ServiceAccount may not list services in namespace triton (403 Forbidden): add the netdoctor-reader binding" });
    expect(classify(new ApiError(403, 'Forbidden', 'weird'), undefined).reason).toBe("the bot's ServiceAccount may not read what this workflow needs (403 Forbidden): add the netdoctor-reader binding");
    expect(classify(new ApiError(401, '', '401')).reason).toContain('rejected the bot\'s credentials');
    expect(classify(new ApiError(404, 'NotFound', '404')).transient).toBe(false);
  });

  it('retries unknown errors but keeps their text out of the chat', () => {
    const failure = classify(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(failure.transient).toBe(true);
    expect(failure.reason).not.toContain('undefined');
  });
});

describe('backoffStrategy', () => {
  const backoff = backoffStrategy(1000, 8000);
  it('doubles from the base, capped, and honours Retry-After', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoff(n, 'netdoctor', new Error('x')))).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(backoff(1, 'netdoctor', new ApiError(429, 'TooManyRequests', '429', 30))).toBe(30000);
    expect(backoff(1, 'netdoctor', Object.assign(new Error('slack'), { transient: true, retryAfterMs: 1500 }))).toBe(1500);
  });
});
