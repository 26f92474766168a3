import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { NetdoctorError } from '../domain/errors';
import type { RawObject } from '../domain/kube-types';
import { siblingThread } from '../domain/source-thread';
import { type DumpFile, type DumpLimits, readDumpFile } from './dump-files';
import { parseObjects } from './dump-parse';

const isJson = (file: DumpFile): boolean => file.rel.endsWith('.json');

/** One object file's objects (Lists flattened); a file that does not parse is refused by name. */
export function parseDumpFile(file: DumpFile, limits: DumpLimits): RawObject[] {
  return parseDumpText(file, readDumpFile(file, limits));
}

function parseDumpText(file: DumpFile, text: string): RawObject[] {
  try {
    return parseObjects(text, isJson(file));
  } catch (e) {
    throw new NetdoctorError('unreadable_dump', `cannot parse ${file.rel}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** YAML 1.2's spellings of the numbers JSON cannot carry (the core schema reads them as ±Infinity and NaN). */
const NON_FINITE = ['.inf', '.Inf', '.INF', '.nan', '.NaN', '.NAN'];

/**
 * Below this many bytes of YAML a dump is parsed on the calling thread alone: a thread costs tens
 * of milliseconds to start, about what js-yaml takes for a megabyte.
 */
const THREADS_FROM_BYTES = 8 * 2 ** 20;
/** Each thread holds a file's objects while it copies them over, so a many-core host does not get one per core. */
const MAX_THREADS = 4;

/**
 * How many threads parse a dump's YAML beside the caller: one per spare core, when there is enough
 * YAML to repay them. JSON is not worth a thread: `JSON.parse` costs about what copying its objects
 * back from a thread would (200,000 objects: 4.1–4.5 s either way, 190 MiB more at peak with one).
 */
export function parseThreadsFor(files: readonly DumpFile[]): number {
  const yaml = files.filter((f) => !isJson(f));
  if (yaml.reduce((n, f) => n + f.size, 0) < THREADS_FROM_BYTES) return 0;
  return Math.max(0, Math.min(availableParallelism() - 1, yaml.length - 1, MAX_THREADS));
}

/** Shared between the threads: the next entry of the YAML queue to take, and the first file in order that failed. */
const NEXT = 0;
const FIRST_FAILED = 1;

/** What a parse thread starts with: the files, the YAML queue (file indexes), the shared state, its port back. */
export interface ParseThreadData {
  files: DumpFile[];
  queue: number[];
  limits: DumpLimits;
  shared: Int32Array;
  port: MessagePort;
}

/**
 * A parsed file as a thread sends it: its objects as JSON text where JSON can carry them, since
 * `JSON.parse` on the caller costs about half of deserialising a structured clone (40,000
 * objects: 350 against 750 ms), and the caller's time is the read's critical path.
 */
type ParsedFile = { index: number; objects: RawObject[] } | { index: number; json: string } | { index: number; error: string } | { done: true };

/** Takes a parsed file (and, for a parse, the text it came from). */
type PutParsed = (m: ParsedFile, text?: string) => void;

/**
 * Parses one file unless a file earlier in order has failed (its error is the one told, so the
 * files after it need not be read). A failure lowers that mark for every thread.
 */
function parseUnlessFailedBefore({ files, limits, shared }: Omit<ParseThreadData, 'port' | 'queue'>, index: number, put: PutParsed): void {
  if (index > Atomics.load(shared, FIRST_FAILED)) return;
  try {
    const file = files[index]!;
    const text = readDumpFile(file, limits);
    put({ index, objects: parseDumpText(file, text) }, text);
  } catch (e) {
    if (!(e instanceof NetdoctorError)) throw e;
    for (let seen = Atomics.load(shared, FIRST_FAILED); index < seen; seen = Atomics.load(shared, FIRST_FAILED)) {
      if (Atomics.compareExchange(shared, FIRST_FAILED, seen, index) === seen) break;
    }
    put({ index, error: e.message });
  }
}

/** Takes the next file of the YAML queue until none is left: a few large files do not leave a thread idle. */
function takeQueue(data: Omit<ParseThreadData, 'port'>, put: PutParsed): void {
  for (let k = Atomics.add(data.shared, NEXT, 1); k < data.queue.length; k = Atomics.add(data.shared, NEXT, 1)) {
    parseUnlessFailedBefore(data, data.queue[k]!, put);
  }
}

/** A parse thread's work (dump-parse-thread.ts): one message per file, its objects as JSON text. */
export function parseInThread(data: ParseThreadData): void {
  takeQueue(data, (m, text) =>
    data.port.postMessage('objects' in m && text !== undefined && !NON_FINITE.some((n) => text.includes(n)) ? { index: m.index, json: JSON.stringify(m.objects) } : m),
  );
  data.port.postMessage({ done: true } satisfies ParsedFile);
}

/** Hands what a port holds now to `handle`, without waiting for the event loop. */
function takeInQueued(port: MessagePort, handle: (m: ParsedFile) => void): void {
  for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port)) handle(r.message as ParsedFile);
}

export interface ParseOptions {
  /** Worker threads beside the caller (default: parseThreadsFor). */
  threads?: number;
  /** Whether the calling thread parses YAML too (default), or only its JSON and what the threads send. */
  callerParses?: boolean;
}

/**
 * Every object of the files, in the files' order. With threads, they take the YAML files from one
 * queue (js-yaml is most of a large dump's read) while the caller parses the JSON files and then
 * joins them. The error is that of the first file in order that does not parse, as a serial parse's.
 */
export async function parseDumpFiles(files: DumpFile[], limits: DumpLimits, options: ParseOptions = {}): Promise<RawObject[]> {
  const { threads = parseThreadsFor(files), callerParses = true } = options;
  const shared = new Int32Array(new SharedArrayBuffer(8));
  shared[FIRST_FAILED] = files.length;
  const queue = files.flatMap((f, i) => (isJson(f) ? [] : [i]));
  const parsed = new Array<RawObject[]>(files.length);
  let failure: { index: number; error: string } | undefined;
  const put = (m: ParsedFile): void => {
    if ('done' in m) return;
    if ('error' in m) {
      if (!failure || m.index < failure.index) failure = m;
    } else parsed[m.index] = 'json' in m ? (JSON.parse(m.json) as RawObject[]) : m.objects;
  };
  const channels = Array.from({ length: threads }, () => new MessageChannel());
  const workers = channels.map(({ port2 }) =>
    siblingThread(__filename, 'dump-parse-thread', { workerData: { files, queue, limits, shared, port: port2 } satisfies ParseThreadData, transferList: [port2] }),
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
        worker.once('exit', (code) => {
          // Its port and its exit are told apart: what it sent before it ended may still be queued.
          takeInQueued(port1, handle);
          reject(new Error(`a dump parse thread exited (code ${code}) before it finished`));
        });
      });
    }),
  );
  finished.catch(() => undefined); // awaited below; a throw on this thread must not leave it unhandled
  try {
    // Between its own files the caller takes in what the threads have sent, so their copies do not pile up.
    const putAndTakeIn = (m: ParsedFile): void => {
      put(m);
      channels.forEach(({ port1 }, i) => takeInQueued(port1, handlers[i]!));
    };
    const data = { files, queue, limits, shared };
    files.forEach((f, i) => {
      if (isJson(f)) parseUnlessFailedBefore(data, i, putAndTakeIn);
    });
    if (callerParses || threads === 0) takeQueue(data, putAndTakeIn);
    await finished;
  } finally {
    for (const { port1 } of channels) port1.close();
    await Promise.all(workers.map((w) => w.terminate()));
  }
  if (failure) throw new NetdoctorError('unreadable_dump', failure.error);
  return parsed.flat();
}
