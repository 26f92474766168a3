import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { RESOURCES } from '../domain/kube-types';
import type { ClusterSnapshot } from './snapshot';

/** Writes a snapshot in the offline dump format (objects.yaml + logs/), so a dump round-trips through DumpReader. */
export function writeDump(snapshot: ClusterSnapshot, dir: string): { objects: number; logs: number } {
  mkdirSync(dir, { recursive: true });
  const { objects, logs } = snapshot.entries();
  const docs = objects.flatMap(([kind, items]) =>
    items.map((o) => {
      const { managedFields: _managed, ...metadata } = (o.metadata ?? {}) as Record<string, unknown>;
      return { ...o, apiVersion: o.apiVersion ?? RESOURCES[kind].apiVersion, kind, metadata };
    }),
  );
  writeFileSync(join(dir, 'objects.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  for (const [key, text] of logs) {
    const podDir = join(dir, 'logs', key.namespace, key.pod);
    mkdirSync(podDir, { recursive: true });
    writeFileSync(join(podDir, `${key.container}${key.previous ? '.previous' : ''}.log`), text);
  }
  return { objects: docs.length, logs: logs.length };
}
