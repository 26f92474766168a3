import { CORE_SCHEMA, loadAll } from 'js-yaml';
import type { RawObject } from '../domain/kube-types';

/**
 * YAML anchors let a small file describe a huge tree (`*a` ten times, nested: a "billion laughs").
 * js-yaml shares aliased nodes instead of copying them, so parsing stays small, but every later walk
 * (checks, JSON output) would expand them. A document may hold at most this many nodes per byte of text.
 */
const NODES_PER_BYTE = 1;
const NODE_FLOOR = 10_000;

/** Counts nodes as a walk would see them (aliases expanded); stops as soon as the budget is spent. */
function withinBudget(root: unknown, budget: number): boolean {
  const stack: unknown[] = [root];
  let seen = 0;
  while (stack.length > 0) {
    const node = stack.pop();
    if (++seen > budget) return false;
    if (node !== null && typeof node === 'object') {
      for (const child of Object.values(node)) if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
  return true;
}

/** Flattens `kind: List` / `*List` documents into their items, giving each item its kind. */
function flatten(doc: RawObject, out: RawObject[]): void {
  const items = doc.items;
  if (Array.isArray(items) && typeof doc.kind === 'string' && doc.kind.endsWith('List')) {
    const itemKind = doc.kind === 'List' ? undefined : doc.kind.slice(0, -'List'.length);
    for (const item of items as unknown[]) {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
      const obj = item as RawObject;
      out.push(obj.kind === undefined && itemKind ? { ...obj, kind: itemKind } : obj);
    }
  } else out.push(doc);
}

const isObject = (v: unknown): v is RawObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The Kubernetes objects in one file's text: a JSON document, or a YAML stream of documents
 * (`kubectl get -o yaml|json`, Lists flattened). Throws the parser's error for text that is neither.
 */
export function parseObjects(text: string, json: boolean): RawObject[] {
  const out: RawObject[] = [];
  if (json || /^\s*[{[]/.test(text)) {
    try {
      const doc: unknown = JSON.parse(text);
      if (isObject(doc)) flatten(doc, out);
      return out;
    } catch (e) {
      if (json) throw e;
      // YAML that merely starts with a flow mapping (or JSON documents separated by `---`): parsed below.
    }
  }
  const budget = Math.max(NODE_FLOOR, text.length * NODES_PER_BYTE);
  // An alias is written `*name`: a text without `*` has none, and its documents need no count (most dumps).
  const mayAlias = text.includes('*');
  // The core schema, as the `yaml` package reads: unquoted timestamps stay strings, no `<<` merge keys.
  loadAll(
    text,
    (doc) => {
      if (!isObject(doc)) return;
      if (mayAlias && !withinBudget(doc, budget)) throw new Error(`YAML aliases expand one document beyond ${budget} nodes`);
      flatten(doc, out);
    },
    { schema: CORE_SCHEMA },
  );
  return out;
}

/** One container's log inside a `kubectl cluster-info dump` logs.txt. */
export interface KubectlLogSection {
  namespace: string;
  pod: string;
  container: string;
  text: string;
}

// kubectl (staging/src/k8s.io/kubectl/pkg/cmd/clusterinfo/clusterinfo_dump.go, printContainer):
//   "==== START logs for container %s of pod %s/%s ====\n" … log bytes … "==== END logs for container %s of pod %s/%s ====\n"
// and, when the log request fails, "Create log request error: %s\n" or "Request log error: %s\n" instead of the log.
const START = /^==== START logs for container (\S+) of pod ([^/\s]+)\/(\S+) ====$/gm;
const REQUEST_FAILED = /^(Create log request error|Request log error): [^\n]*\n?$/;

/**
 * Splits a kubectl `<namespace>/<pod>/logs.txt` into its containers. The log bytes are written as
 * received, so the END marker can follow the last line without a newline: it is found by its exact
 * text, not by line. A section whose END is missing (a truncated file) runs to the next START.
 */
export function splitKubectlLogs(text: string): KubectlLogSection[] {
  const starts = [...text.matchAll(START)];
  return starts.flatMap((m, i) => {
    const [line, container, namespace, pod] = m as unknown as [string, string, string, string];
    const from = m.index + line.length + 1;
    const next = starts[i + 1]?.index ?? text.length;
    const end = text.indexOf(`==== END logs for container ${container} of pod ${namespace}/${pod} ====`, from);
    const body = text.slice(from, end >= 0 && end < next ? end : next);
    return REQUEST_FAILED.test(body) ? [] : [{ namespace, pod, container, text: body }];
  });
}
