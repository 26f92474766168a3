// Entry of a dump parse thread (started by dump-objects.ts; nothing else loads it).
import { workerData } from 'node:worker_threads';
import { type ParseThreadData, parseInThread } from './dump-objects';

parseInThread(workerData as ParseThreadData);
