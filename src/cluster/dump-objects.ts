import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { NetdoctorError } from '../domain/errors';
import type { RawObject } from '../domain/kube-types';
import { siblingThread } from '../domain/source-thread';
import { type DumpFile, type DumpLimits, readDumpFile } from './dump-files';
import { parseObjects } from './dump-parse';

/** One object file's objects (Lists flattened); a file that does not parse is refused by name. */
export function parseDumpFile(file: DumpFile, limits: DumpLimits): RawObject[] {
  const text = readDumpFile(file, limits);
  try {
    return parseObjects(text, file.rel.endsWith('.json'));
  } catch (e) {
    throw new NetdoctorError('unreadable_dump', `cannot parse ${file.rel}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * Below this many bytes of object files a dump is parsed on the calling thread alone: a thread
 * costs tens of milliseconds to start, about what js-yaml takes for a megabyte.
 */
const THREADS_FROM_BYTES = 8 * 2 ** 20;
/** Each thread holds a file's objects while it copies them over, so a many-core host does not get one per core. */
const MAX_THREADS = 4;

/** How many threads beside the caller's parse a dump: one per spare core, when the dump repays them. */
export function parseThreadsFor(files: readonly DumpFile[]): number {
  const bytes = files.reduce((n, f) => n + f.size, 0);
  if (bytes < THREADS_FROM_BYTES) return 0;
  return Math.max(0, Math.min(availableParallelism() - 1, files.length - 1, MAX_THREADS));
}

/** What a parse thread starts with: the files, the shared index of the next file to take, and its port back. */
export interface ParseThreadData {
  files: DumpFile[];
  limits: DumpLimits;
  next: Int32Array;
  port: MessagePort;
}

type ParsedFile = { index: number; objects: RawObject[] } | { index: number; error: string } | { done: true };

/**
 * Parses the files that are still untaken, one at a time, until none is left. Every thread (and the
 * caller) takes the next file from one shared counter, so a few large files do not leave a thread idle.
 * A file that does not parse stops the others from taking more.
 */
function takeFiles(files: readonly DumpFile[], limits: DumpLimits, next: Int32Array, put: (m: ParsedFile) => void): void {
  for (let index = Atomics.add(next, 0, 1); index < files.length; index = Atomics.add(next, 0, 1)) {
    try {
      put({ index, objects: parseDumpFile(files[index]!, limits) });
    } catch (e) {
      if (!(e instanceof NetdoctorError)) throw e;
      Atomics.store(next, 0, files.length);
      put({ index, error: e.message });
    }
  }
}

/** A parse thread's work (dump-parse-thread.ts): its objects cross as structured clones, one file per message. */
export function parseInThread({ files, limits, next, port }: ParseThreadData): void {
  takeFiles(files, limits, next, (m) => port.postMessage(m));
  port.postMessage({ done: true } satisfies ParsedFile);
}

export interface ParseOptions {
  /** Worker threads beside the caller (default: parseThreadsFor). */
  threads?: number;
  /** Whether the calling thread parses too (default), or only takes in what the threads send. */
  callerParses?: boolean;
}

/**
 * Every object of the files, in the files' order, parsed by the calling thread and worker threads
 * side by side (js-yaml is most of a large dump's read). The first file in order that does not
 * parse is the error, whichever thread met it, so the error is the same as a serial parse's.
 */
export async function parseDumpFiles(files: DumpFile[], limits: DumpLimits, options: ParseOptions = {}): Promise<RawObject[]> {
  const { threads = parseThreadsFor(files), callerParses = true } = options;
  const next = new Int32Array(new SharedArrayBuffer(4));
  const parsed: RawObject[][] = new Array<RawObject[]>(files.length);
  let failure: { index: number; error: string } | undefined;
  const put = (m: ParsedFile): void => {
    if ('done' in m) return;
    if ('error' in m) {
      if (!failure || m.index < failure.index) failure = m;
    } else parsed[m.index] = m.objects;
  };
  const channels = Array.from({ length: threads }, () => new MessageChannel());
  const workers = channels.map(({ port2 }) =>
    siblingThread(__filename, 'dump-parse-thread', { workerData: { files, limits, next, port: port2 } satisfies ParseThreadData, transferList: [port2] }),
  );
  const handlers: ((m: ParsedFile) => void)[] = [];
  const finished = Promise.all(
    channels.map(({ port1 }, i) => {
      const worker = workers[i]!;
      return new Promise<void>((resolve, reject) => {
        const handle = (m: ParsedFile): void => {
          put(m);
          if ('done' in m) resolve();
        };
        handlers.push(handle);
        port1.on('message', handle);
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`a dump parse thread exited (code ${code}) before it finished`)));
      });
    }),
  );
  finished.catch(() => undefined); // awaited below; a throw on this thread must not leave it unhandled
  try {
    // The caller parses too; between its files it takes in what the threads have sent, so their
    // copies do not pile up until the end.
    if (callerParses || threads === 0) takeFiles(files, limits, next, (m) => {
      put(m);
      channels.forEach(({ port1 }, i) => {
        for (let r = receiveMessageOnPort(port1); r; r = receiveMessageOnPort(port1)) handlers[i]!(r.message as ParsedFile);
      });
    });
    await finished;
  } finally {
    for (const { port1 } of channels) port1.close();
    await Promise.all(workers.map((w) => w.terminate()));
  }
  if (failure) throw new NetdoctorError('unreadable_dump', failure.error);
  return parsed.flat();
}
