import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Plan } from '../domain/plan';

/** Everything a proposal binds: what would be written, where, for whom, and until when. */
export interface SealedProposal {
  cluster: string;
  namespace?: string;
  plan: Plan;
  requestedBy: string;
  channel: string;
  parentTs?: string;
  dryRunAt: string;
  expiresAt: string;
  diffHash: string;
}

/** An accepted click, bound to the proposal it decided. */
export interface SealedDecision {
  proposalSeal: string;
  action: 'approve' | 'rollback';
  by: string;
  at: string;
}

/** JSON with object keys sorted at every level, so the same value always gives the same bytes. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return value === undefined ? 'null' : JSON.stringify(value);
}

/**
 * Seals plans with a key that is not in Redis (NETDOCTOR_PLAN_KEY): a MAC over each proposal
 * and each accepted decision, and authenticated encryption of the rollback data (prior objects,
 * which may hold plain env credentials). Whoever can write Redis cannot make a plan, an approval
 * or a rollback the remediate worker accepts. The key never leaves this object.
 */
export class PlanSealer {
  readonly #macKey: Buffer;
  readonly #encKey: Buffer;

  constructor(secret: string) {
    if (secret.length < 32) throw new Error('the plan key must be at least 32 characters');
    // Separate keys per use, derived from the one secret.
    this.#macKey = createHmac('sha256', secret).update('netdoctor plan mac v1').digest();
    this.#encKey = createHmac('sha256', secret).update('netdoctor rollback data v1').digest();
  }

  private mac(kind: string, value: unknown): string {
    return createHmac('sha256', this.#macKey).update(`${kind}\n${canonical(value)}`).digest('hex');
  }

  private static same(a: string, b: string | undefined): boolean {
    if (typeof b !== 'string' || a.length !== b.length) return false;
    return timingSafeEqual(Buffer.from(a), Buffer.from(b));
  }

  sealProposal(p: SealedProposal): string {
    return this.mac('proposal', p);
  }

  checkProposal(p: SealedProposal, seal: string | undefined): boolean {
    return PlanSealer.same(this.sealProposal(p), seal);
  }

  sealDecision(d: SealedDecision): string {
    return this.mac('decision', d);
  }

  checkDecision(d: SealedDecision, seal: string | undefined): boolean {
    return PlanSealer.same(this.sealDecision(d), seal);
  }

  /** AES-256-GCM of a JSON value, bound to `context` (cluster and plan) as associated data. */
  encrypt(value: unknown, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#encKey, iv).setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64')).join('.');
  }

  /** The value `encrypt` sealed for this context, or undefined when it was altered, moved or made with another key. */
  decrypt(sealed: string | undefined, context: string): unknown {
    const [iv, tag, body] = (sealed ?? '').split('.').map((p) => Buffer.from(p, 'base64'));
    if (!iv || !tag || !body || iv.length !== 12 || tag.length !== 16) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#encKey, iv).setAAD(Buffer.from(context)).setAuthTag(tag);
      return JSON.parse(Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  /** Never serialised (a policy object may end up in a log line). */
  toJSON(): string {
    return '[plan key]';
  }
}
