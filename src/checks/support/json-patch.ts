/** One RFC 6902 operation, as plans carry them. */
export interface JsonPatchOp {
  op: 'test' | 'replace' | 'add' | 'remove';
  path: string;
  value?: unknown;
}

/** An RFC 6901 pointer from path segments (`~` and `/` escaped). */
export function pointer(...segments: (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** `test` the value the diagnosis saw, then `replace` it: the patch fails rather than clobbering a concurrent edit. */
export function testAndReplace(path: string, oldValue: unknown, newValue: unknown): JsonPatchOp[] {
  return [
    { op: 'test', path, value: oldValue },
    { op: 'replace', path, value: newValue },
  ];
}
