import type { Cluster, Redis } from 'ioredis';
import { type PlanState, TRANSITIONS } from '../domain/plan';
import type { PlanEntry, PlanStore, Transition } from '../domain/stores';
import { clusterKey, sharedKey } from './keys';

// KEYS[1] entry key; ARGV: from-states (comma list), to-state, JSON patch of fields, now.
const CAS = `
local raw = redis.call('GET', KEYS[1])
if not raw then return {0, 'missing'} end
local entry = cjson.decode(raw)
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do if entry.state == s then allowed = true end end
if not allowed then return {0, entry.state} end
local fields = cjson.decode(ARGV[3])
for k, v in pairs(fields) do entry[k] = v end
entry.state = ARGV[2]
local ttl = redis.call('TTL', KEYS[1])
if ttl > 0 then redis.call('SET', KEYS[1], cjson.encode(entry), 'EX', ttl) else redis.call('SET', KEYS[1], cjson.encode(entry)) end
return {1, ARGV[2]}
`;

// KEYS[1] entry key; ARGV: the new entry (JSON), ttl, reopenable states (comma list), the new entry's thread.
const PROPOSE = `
local raw = redis.call('GET', KEYS[1])
if raw then
  local known = cjson.decode(raw)
  local reopen = known.state == 'proposed' and ((known.requestedBy or '') .. '|' .. (known.channel or '') .. '|' .. (known.parentTs or '')) ~= ARGV[4]
  for s in string.gmatch(ARGV[3], '[^,]+') do if known.state == s then reopen = true end end
  if not reopen then return raw end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ARGV[1]
`;

/**
 * States a fresh diagnosis may propose again: nothing was changed, and the same fix against the
 * same object version has the same plan id (re-running /netdoctor must give approvable buttons).
 */
const REOPENABLE: PlanState[] = ['expired', 'rejected', 'denied', 'not-applicable', 'conflict'];

/**
 * Whose request and which thread a proposal belongs to. A pending proposal is re-proposed (its old
 * buttons then refused) when another diagnosis, by someone else or in another thread, finds the
 * same fix: the plan is bound to its latest requester and thread, never approved from elsewhere.
 */
export function proposalThread(entry: Pick<PlanEntry, 'requestedBy' | 'channel' | 'parentTs'>): string {
  return `${entry.requestedBy}|${entry.channel}|${entry.parentTs ?? ''}`;
}

/**
 * Plan decisions in Redis. A transition is a Lua compare-and-set, so a double click, a second
 * approver or a redelivered interaction finds the state already moved and changes nothing.
 */
export class PlanLedger implements PlanStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly queuePrefix: string,
    private readonly ttlSeconds: number,
  ) {}

  private key(cluster: string, planId: string): string {
    return clusterKey(this.queuePrefix, cluster, 'data', 'plan-state', planId);
  }

  /**
   * Records a proposal (or a plan whose dry run failed: shown, never approvable). A retried job
   * keeps the record it finds; a plan that ended without changing anything, or is pending in
   * another requester's thread, is proposed afresh. Returns the stored entry.
   */
  async propose(entry: Omit<PlanEntry, 'state' | 'updatedAt'>, now: Date, state: 'proposed' | 'not-applicable' = 'proposed'): Promise<PlanEntry> {
    const fresh: PlanEntry = { ...entry, state, updatedAt: now.toISOString() };
    const stored = (await this.redis.eval(PROPOSE, 1, this.key(entry.cluster, entry.planId), JSON.stringify(fresh), this.ttlSeconds, REOPENABLE.join(','), proposalThread(entry))) as string;
    await this.redis.set(this.indexKey(entry.planId), entry.cluster, 'EX', this.ttlSeconds);
    return JSON.parse(stored) as PlanEntry;
  }

  /** Which cluster a plan belongs to (a button carries the plan id only; one front end serves many clusters). */
  async clusterOf(planId: string): Promise<string | undefined> {
    return (await this.redis.get(this.indexKey(planId))) ?? undefined;
  }

  private indexKey(planId: string): string {
    return sharedKey(this.queuePrefix, 'plan-cluster', planId);
  }

  /** Adds facts to an entry without moving its state (e.g. the verification verdict after an apply). */
  async annotate(cluster: string, planId: string, fields: Partial<PlanEntry>, now: Date): Promise<PlanEntry | undefined> {
    const entry = await this.get(cluster, planId);
    if (!entry) return undefined;
    const [ok] = (await this.redis.eval(CAS, 1, this.key(cluster, planId), entry.state, entry.state, JSON.stringify({ ...fields, updatedAt: now.toISOString() }))) as [number, string];
    return ok === 1 ? this.get(cluster, planId) : undefined;
  }

  async get(cluster: string, planId: string): Promise<PlanEntry | undefined> {
    const raw = await this.redis.get(this.key(cluster, planId));
    return raw ? (JSON.parse(raw) as PlanEntry) : undefined;
  }

  /** Moves the plan from one of `from` to `to` atomically, merging `fields`; refuses transitions that do not exist. */
  async transition(cluster: string, planId: string, from: PlanState[], to: PlanState, fields: Partial<PlanEntry>, now: Date): Promise<Transition> {
    const legal = from.filter((s) => TRANSITIONS[s].includes(to));
    if (legal.length === 0) throw new Error(`no transition from ${from.join('|')} to ${to}`);
    const [ok, state] = (await this.redis.eval(CAS, 1, this.key(cluster, planId), legal.join(','), to, JSON.stringify({ ...fields, updatedAt: now.toISOString() }))) as [number, string];
    if (ok !== 1) return { ok: false, state: state as PlanState | 'missing' };
    return { ok: true, entry: (await this.get(cluster, planId))! };
  }
}
