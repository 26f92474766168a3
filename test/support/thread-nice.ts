import { readFileSync, readdirSync } from 'node:fs';

/** A thread of this process and its nice value as the kernel reports it (`stat`'s 19th field; the 2nd, comm, may hold spaces). */
export function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** The ids of this process's threads at `nice` (Linux). */
export function threadsAtNice(nice: number): number[] {
  return readdirSync(`/proc/${process.pid}/task`).map(Number).filter((tid) => {
    try {
      return niceOf(tid) === nice;
    } catch {
      return false; // the thread ended while listed
    }
  });
}
