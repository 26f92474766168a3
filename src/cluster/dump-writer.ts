import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { RESOURCES } from '../domain/kube-types';
import { DEFAULT_DUMP_LIMITS, SNAPSHOT_INFO_FILE } from './dump-files';
import type { ClusterSnapshot } from './snapshot';

/** Half the reader's per-file limit: a large cluster's snapshot is split so that DumpReader reads it back. */
const OBJECT_FILE_BYTES = DEFAULT_DUMP_LIMITS.maxFileBytes / 2;

/**
 * Writes a snapshot in the offline dump format (objects.yaml, then objects-2.yaml … when it
 * grows past `maxFileBytes`, logs/, and the read's instant in SNAPSHOT_INFO_FILE), so a dump
 * round-trips through DumpReader.
 */
export function writeDump(snapshot: ClusterSnapshot, dir: string, maxFileBytes = OBJECT_FILE_BYTES): { objects: number; logs: number; files: number } {
  mkdirSync(dir, { recursive: true });
  const { objects, logs } = snapshot.entries();
  let files = 0;
  let chunk: string[] = [];
  let chunkBytes = 0;
  const flush = (): void => {
    files += 1;
    writeFileSync(join(dir, files === 1 ? 'objects.yaml' : `objects-${files}.yaml`), chunk.join('---\n'));
    chunk = [];
    chunkBytes = 0;
  };
  let count = 0;
  for (const [kind, items] of objects) {
    for (const o of items) {
      const { managedFields: _managed, ...metadata } = (o.metadata ?? {}) as Record<string, unknown>;
      const text = stringify({ ...o, apiVersion: o.apiVersion ?? RESOURCES[kind].apiVersion, kind, metadata });
      const bytes = Buffer.byteLength(text) + 4;
      if (chunk.length > 0 && chunkBytes + bytes > maxFileBytes) flush();
      chunk.push(text);
      chunkBytes += bytes;
      count += 1;
    }
  }
  if (chunk.length > 0 || files === 0) flush();
  if (snapshot.observedAt) writeFileSync(join(dir, SNAPSHOT_INFO_FILE), `${JSON.stringify({ takenAt: snapshot.observedAt.toISOString() })}\n`);
  for (const [key, text] of logs) {
    const podDir = join(dir, 'logs', key.namespace, key.pod);
    mkdirSync(podDir, { recursive: true });
    writeFileSync(join(podDir, `${key.container}${key.previous ? '.previous' : ''}.log`), text);
  }
  return { objects: count, logs: logs.length, files };
}
