import { getHeapStatistics } from 'node:v8';
import { fullCollection, heapReclaimer } from '../../../src/observability/heap';

const MiB = 2 ** 20;
/**
 * Arrays of 2^20 numbers (8 MiB each), enough to pass the reclaimer's mark whatever the heap held
 * when it was made (a jest worker's heap holds earlier test files' garbage): 1.25 × used + 32 MiB, with a margin.
 */
function allocate(): number[][] {
  const arrays = Math.ceil((getHeapStatistics().used_heap_size * 0.25 + 32 * MiB) / (8 * MiB)) + 12;
  return Array.from({ length: arrays }, (_, i) => new Array<number>(2 ** 20).fill(i + 0.5));
}

describe('heapReclaimer', () => {
  it('collects once the heap has grown well past what the last collection left, and not again until it grows again', () => {
    fullCollection()(); // the reclaimer's mark is then what is alive, not earlier test files' garbage
    let collections = 0;
    const reclaim = heapReclaimer(() => collections++);
    reclaim();
    expect(collections).toBe(0);
    const held = allocate(); // alive: no collection could take it back
    reclaim();
    expect(collections).toBe(1);
    reclaim();
    expect(collections).toBe(1);
    expect(held.length).toBeGreaterThan(12);
  });

  it('runs V8\'s full collection by default', () => {
    fullCollection()();
    const reclaim = heapReclaimer();
    const garbage = allocate();
    garbage.length = 0;
    const before = getHeapStatistics().used_heap_size;
    reclaim();
    expect(before - getHeapStatistics().used_heap_size).toBeGreaterThan(100 * MiB);
  });
});
