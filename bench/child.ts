// Runs bench/diagnose-child.ts in a fresh Node process and parses its one-line JSON answer.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FloorResult, LiveHeapResult, LiveResult, LoggedRequest } from './diagnose-child';
import { run } from './stats';

const CHILD = path.join(__dirname, 'diagnose-child.ts');
const REGISTER = path.join(__dirname, '..', 'scripts', 'ts-register.js');

async function child<T>(args: string[], nodeFlags: string[] = []): Promise<T> {
  // 150,000 pods on a slow day: a digest about 150 s, a floor pass about 110 s.
  const r = await run(process.execPath, [...nodeFlags, '-r', REGISTER, CHILD, ...args], { timeoutMs: 900_000 });
  if (r.code !== 0) throw new Error(`diagnose-child ${args[0]} failed (exit ${r.code}): ${r.stderr.slice(-1500)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as T;
}

/** A diagnosis in a fresh process, then (`warmToo`) a second one in it. */
export function liveRun(kubeconfig: string, workflow: string, namespace?: string, warmToo = true): Promise<LiveResult> {
  return child<LiveResult>([warmToo ? 'live' : 'cold', kubeconfig, workflow, ...(namespace ? [namespace] : [])]);
}

/** A cluster-wide run that collects garbage at namespace boundaries to measure what stays alive (not timed: collections cost). */
export function liveHeapRun(kubeconfig: string, workflow: string): Promise<LiveHeapResult> {
  return child<LiveHeapResult>(['heap', kubeconfig, workflow], ['--expose-gc']);
}

/** The requests by a bare client, cold then warm; then (`parse`) once more with every body decoded and parsed. */
export async function floorRun(kubeconfig: string, requests: LoggedRequest[], parse = false): Promise<FloorResult> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'netdoctor-bench-')), 'requests.json');
  fs.writeFileSync(file, JSON.stringify(requests));
  try {
    return await child<FloorResult>([parse ? 'parse-floor' : 'floor', kubeconfig, file]);
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

/** API calls per resource (pods, events, …, log), pages counted. */
export function callBreakdown(requests: LoggedRequest[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of requests) {
    const parts = r.path.split('/').filter(Boolean);
    const key = parts[parts.length - 1] === 'log'
      ? 'pods/log'
      : r.query.limit !== undefined
        ? parts[parts.length - 1]!
        : `GET ${r.path.replace(/\/namespaces\/[^/]+/, '/namespaces/{ns}')}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

export type { LiveResult, FloorResult, LiveHeapResult };
