// Objects written straight into the control plane's etcd, for the scale benchmark's large sizes:
// through the apiserver a 2-core machine loads about 240 writes/s, so 150,000 pods took over an
// hour. The apiserver stores JSON and protobuf alike (its storage codec recognises both), fills
// in defaults when it reads an object, and sees each write through its etcd watch, as the
// controllers then see it through the apiserver. The objects written are copies of ones the
// apiserver stored itself (bench/synth.ts), so admission's additions and managedFields are there.
export interface StoredObject {
  /** The etcd key: `/registry/<resource>/<namespace>/<name>`. */
  key: string;
  value: { metadata?: { resourceVersion?: string } } & Record<string, unknown>;
}

/** etcd's own limit on operations in one transaction is 128; requests stay under its 1.5 MiB. */
const OPS_PER_TXN = 100;
const BYTES_PER_TXN = 1024 * 1024;

export class EtcdLoader {
  puts = 0;
  /** Groups not written because their claim was taken (putClaimed). */
  taken = 0;
  /** etcd's revision after the last write. */
  revision = 0;

  constructor(private readonly clientUrl: string) {}

  /** Writes the objects in transactions of at most 100 puts (no resourceVersion: the apiserver sets it from the revision). */
  async put(objects: StoredObject[]): Promise<void> {
    await this.putClaimed(objects.map((o) => ({ objects: [o] })));
  }

  /**
   * Writes groups of objects, each group only if its `claim` key is still absent (etcd's
   * compare on create_revision 0, as the apiserver itself creates): the apiserver may meanwhile
   * have taken the same key, e.g. a cluster IP's IPAddress. Returns the groups not written
   * because their claim was taken.
   */
  async putClaimed<G extends { claim?: string; objects: StoredObject[] }>(groups: G[]): Promise<G[]> {
    const taken: G[] = [];
    let batch: { claim?: string; ops: { key: string; value: string }[]; group: G }[] = [];
    let ops = 0;
    let bytes = 0;
    const flush = async (): Promise<void> => {
      while (batch.length > 0) {
        const claims = batch.flatMap((g) => (g.claim ? [g.claim] : []));
        const compare = claims.map((key) => ({ key: b64(key), target: 'CREATE', create_revision: '0', result: 'EQUAL' }));
        const success = batch.flatMap((g) => g.ops.map((op) => ({ requestPut: op })));
        const res = await fetch(`${this.clientUrl}/v3/kv/txn`, { method: 'POST', body: JSON.stringify({ compare, success }) });
        const body = await res.text();
        if (!res.ok) throw new Error(`etcd txn of ${success.length} puts failed: HTTP ${res.status} ${body.slice(0, 300)}`);
        const result = JSON.parse(body) as { succeeded?: boolean; header?: { revision?: string } };
        if (result.succeeded) {
          this.puts += success.length;
          this.revision = Math.max(this.revision, Number(result.header?.revision ?? 0));
          break;
        }
        if (claims.length === 0) throw new Error(`etcd txn of ${success.length} puts without compares did not succeed: ${body.slice(0, 300)}`);
        // Some claim was taken meanwhile: set those groups aside and write the rest.
        const present = await Promise.all(batch.map((g) => (g.claim ? this.exists(g.claim) : Promise.resolve(false))));
        taken.push(...batch.filter((_, i) => present[i]).map((g) => g.group));
        this.taken += present.filter(Boolean).length;
        batch = batch.filter((_, i) => !present[i]);
      }
      batch = [];
      ops = 0;
      bytes = 0;
    };
    for (const group of groups) {
      const encoded = group.objects.map((o) => {
        if (o.value.metadata?.resourceVersion !== undefined) throw new Error(`${o.key}: stored objects carry no resourceVersion`);
        return { key: b64(o.key), value: Buffer.from(JSON.stringify(o.value)).toString('base64') };
      });
      const size = encoded.reduce((n, op) => n + op.value.length, 0);
      if (ops + encoded.length > OPS_PER_TXN || bytes + size > BYTES_PER_TXN) await flush();
      batch.push({ ...(group.claim ? { claim: group.claim } : {}), ops: encoded, group });
      ops += encoded.length;
      bytes += size;
    }
    await flush();
    return taken;
  }

  private async exists(key: string): Promise<boolean> {
    const res = await fetch(`${this.clientUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: b64(key), count_only: true }) });
    if (!res.ok) throw new Error(`etcd range of ${key} failed: HTTP ${res.status}`);
    return Number(((await res.json()) as { count?: string }).count ?? 0) > 0;
  }
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
