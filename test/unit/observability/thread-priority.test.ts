import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { niceOf } from '../../support/thread-nice';

const linux = process.platform === 'linux';

(linux ? describe : describe.skip)('lowerThreadPriority', () => {
  it('lowers the calling thread alone: a worker thread at nice 7, the thread that started it as it was', async () => {
    const hook = path.resolve(__dirname, '../../../scripts/ts-register.js');
    const file = path.resolve(__dirname, '../../../src/observability/thread-priority.ts');
    const worker = new Worker(
      `require(${JSON.stringify(hook)});
       const { parentPort } = require('node:worker_threads');
       const tid = require(${JSON.stringify(file)}).lowerThreadPriority(7);
       parentPort.postMessage(tid);
       parentPort.once('message', () => process.exit(0));`,
      { eval: true },
    );
    try {
      const tid = await new Promise<number>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(tid).not.toBe(process.pid);
      expect(niceOf(tid)).toBe(7);
      expect(niceOf(process.pid)).toBe(0);
    } finally {
      worker.postMessage('done');
      await new Promise((r) => worker.once('exit', r));
    }
  });
});
