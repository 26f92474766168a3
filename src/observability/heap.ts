import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let exposedGc: (() => void) | undefined;

/**
 * V8's full collection. `gc` is exposed only by a flag; setting it once the process runs is what the
 * `expose-gc` package does: the function is then taken from a fresh context.
 */
export function fullCollection(): () => void {
  if (!exposedGc) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed) exposedGc = exposed;
    else {
      setFlagsFromString('--expose-gc');
      exposedGc = runInNewContext('gc') as () => void;
    }
  }
  return exposedGc;
}

// Measured on the 30,000-pod digest (bench/README.md): peak RSS 415–452 MiB without, 270 MiB with
// 1.25 / 32 MiB (19 full collections, 0.9 s of a 14 s run); 1.5 / 48 MiB gave 300 MiB, 2 / 64 MiB 350.
/** A full collection is made once the heap has grown this much past what the last one left alive... */
const GROWTH = 1.25;
/** ...and by at least this much, so a small heap is not collected over and over. */
const SLACK_BYTES = 32 * 2 ** 20;

/**
 * What the cluster-wide run calls between namespaces, where little is alive: a full collection when
 * the heap has grown well past the live set. Without it V8 lets the garbage of every parsed page pile
 * up into a heap several times what is alive, so peak memory grows with the cluster although the run
 * holds one namespace at a time (issue 20).
 */
export function heapReclaimer(collect: () => void = fullCollection()): () => void {
  let alive = getHeapStatistics().used_heap_size;
  return () => {
    const used = getHeapStatistics().used_heap_size;
    // V8's own collections lower the mark too: what a heap shrank to is at most what is alive.
    alive = Math.min(alive, used);
    if (used < alive * GROWTH + SLACK_BYTES) return;
    collect();
    alive = getHeapStatistics().used_heap_size;
  };
}
