import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers the scheduling priority (raises the nice value) of the calling thread alone. Linux keeps
 * a nice value per thread, and `setpriority` takes a thread id where it takes a pid; the calling
 * thread's id is the last part of `/proc/thread-self`. Raising one's own nice value needs no
 * privilege. Returns the thread id, or undefined where there is no `/proc/thread-self` (not Linux).
 */
export function lowerThreadPriority(nice: number): number | undefined {
  let link: string;
  try {
    link = readlinkSync('/proc/thread-self');
  } catch {
    return undefined;
  }
  const tid = Number(link.slice(link.lastIndexOf('/') + 1));
  if (!Number.isInteger(tid) || tid <= 0) return undefined;
  setPriority(tid, nice);
  return tid;
}
