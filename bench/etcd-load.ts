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

  constructor(private readonly clientUrl: string) {}

  /** Writes the objects in transactions of at most 100 puts (no resourceVersion: the apiserver sets it from the revision). */
  async put(objects: StoredObject[]): Promise<void> {
    let batch: unknown[] = [];
    let bytes = 0;
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const res = await fetch(`${this.clientUrl}/v3/kv/txn`, { method: 'POST', body: JSON.stringify({ success: batch }) });
      const body = await res.text();
      if (!res.ok || !/"succeeded":true/.test(body)) throw new Error(`etcd txn of ${batch.length} puts failed: HTTP ${res.status} ${body.slice(0, 300)}`);
      this.puts += batch.length;
      batch = [];
      bytes = 0;
    };
    for (const o of objects) {
      if (o.value.metadata?.resourceVersion !== undefined) throw new Error(`${o.key}: stored objects carry no resourceVersion`);
      const value = Buffer.from(JSON.stringify(o.value)).toString('base64');
      if (batch.length >= OPS_PER_TXN || bytes + value.length > BYTES_PER_TXN) await flush();
      batch.push({ requestPut: { key: Buffer.from(o.key).toString('base64'), value } });
      bytes += value.length;
    }
    await flush();
  }
}
