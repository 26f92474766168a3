import * as path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running `entry`, a file next to `moduleFile` (the caller's `__filename`): the built
 * `.js` in dist/ (production, the image); from the TypeScript sources (jest, the bench) it is compiled
 * on load by the repo's swc hook, as the main thread's sources are.
 */
export function siblingThread(moduleFile: string, entry: string, options: WorkerOptions): Worker {
  const ext = path.extname(moduleFile);
  const file = path.join(path.dirname(moduleFile), `${entry}${ext}`);
  if (ext === '.js') return new Worker(file, options);
  const hook = path.resolve(__dirname, '..', '..', 'scripts', 'ts-register.js');
  return new Worker(`require(${JSON.stringify(hook)}); require(${JSON.stringify(file)});`, { ...options, eval: true });
}
