import { type Dirent, closeSync, constants, fstatSync, openSync, readSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { NetdoctorError } from '../domain/errors';

/** How much a dump may hold: a dump is untrusted input, so memory and time stay bounded. */
export interface DumpLimits {
  /** Any one file (objects or logs). */
  maxFileBytes: number;
  /** All object files together: they are all parsed and held in memory. */
  maxTotalBytes: number;
  /** Directory entries walked, at any depth. */
  maxEntries: number;
}

export const DEFAULT_DUMP_LIMITS: DumpLimits = { maxFileBytes: 64 * 2 ** 20, maxTotalBytes: 256 * 2 ** 20, maxEntries: 200_000 };

/** A regular file found under the dump's real path. */
/**
 * `netdoctor snapshot` writes the apiserver's clock at the read here: without it a dump's "now"
 * is its newest timestamp, which lags the read by however long the cluster was quiet.
 */
export const SNAPSHOT_INFO_FILE = 'netdoctor-snapshot.json';

export interface DumpFile {
  /** Path relative to the dump (where it was found; decides what it is). */
  rel: string;
  /** Absolute real path to open (the link target for a symlink that stays inside the dump). */
  path: string;
  size: number;
}

/** An entry the reader did not read, with why: reported to the user instead of failing the run. */
export interface SkippedEntry {
  rel: string;
  reason: string;
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const utf8 = new TextDecoder('utf-8', { fatal: true });

function isUtf8(name: Buffer): boolean {
  try {
    utf8.decode(name);
    return true;
  } catch {
    return false;
  }
}

/** The dump's real path (symlinks resolved once, here), or a clear error. */
export function dumpRoot(dir: string): string {
  let root: string;
  try {
    root = realpathSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NetdoctorError('unreadable_dump', `dump directory ${dir} does not exist`);
    throw new NetdoctorError('unreadable_dump', `cannot open dump directory ${dir} (${code ?? (e as Error).message})`);
  }
  if (!statSync(root).isDirectory()) throw new NetdoctorError('unreadable_dump', `dump directory ${dir} is not a directory`);
  return root;
}

const SPECIAL = 'not a regular file (a FIFO, socket or device; not read)';

/** What one directory entry is: a directory to walk, a file to read, or why it is skipped. */
function classify(root: string, path: string, rel: string, d: Dirent<Buffer>): 'directory' | DumpFile | SkippedEntry {
  if (d.isDirectory()) return 'directory';
  if (d.isFile()) return { rel, path, size: statSync(path).size };
  if (!d.isSymbolicLink()) return { rel, reason: SPECIAL };
  let target: string;
  try {
    target = realpathSync(path);
  } catch {
    return { rel, reason: 'a symbolic link that does not resolve (dangling or a loop; not read)' };
  }
  const stat = statSync(target);
  if (stat.isDirectory()) return { rel, reason: 'a symbolic link to a directory (not followed)' };
  if (!target.startsWith(root + sep)) return { rel, reason: 'a symbolic link to a file outside the dump (not read)' };
  if (!stat.isFile()) return { rel, reason: SPECIAL };
  return { rel, path: target, size: stat.size };
}

/**
 * Every regular file under the dump's real path, sorted by relative path. Symlinks are followed only
 * when they resolve to a regular file inside the dump; directory symlinks never (no escapes, no loops).
 * FIFOs, sockets, devices, unresolvable links and names that are not UTF-8 are skipped and listed.
 */
export function walkDump(root: string, limits: DumpLimits): { files: DumpFile[]; skipped: SkippedEntry[] } {
  const files: DumpFile[] = [];
  const skipped: SkippedEntry[] = [];
  let entries = 0;
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let dirents: Dirent<Buffer>[];
    try {
      dirents = readdirSync(dir, { encoding: 'buffer', withFileTypes: true });
    } catch (e) {
      skipped.push({ rel: relative(root, dir), reason: `a directory that cannot be listed (${(e as NodeJS.ErrnoException).code ?? 'error'})` });
      continue;
    }
    entries += dirents.length;
    if (entries > limits.maxEntries) {
      throw new NetdoctorError('unreadable_dump', `the dump holds more than ${limits.maxEntries} files and directories`);
    }
    for (const d of dirents) {
      const rel = relative(root, join(dir, d.name.toString('utf8')));
      if (!isUtf8(d.name)) {
        skipped.push({ rel, reason: 'a file name that is not UTF-8 (not read)' });
        continue;
      }
      try {
        const found = classify(root, join(root, rel), rel, d);
        if (found === 'directory') pending.push(join(root, rel));
        else if ('size' in found) files.push(found);
        else skipped.push(found);
      } catch (e) {
        skipped.push({ rel, reason: `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
      }
    }
  }
  const byRel = (a: { rel: string }, b: { rel: string }): number => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0);
  return { files: files.sort(byRel), skipped: skipped.sort(byRel) };
}

function tooBig(file: DumpFile, size: number, limits: DumpLimits): NetdoctorError {
  return new NetdoctorError('unreadable_dump', `${file.rel} is ${mib(size)} MiB; a dump file may be at most ${mib(limits.maxFileBytes)} MiB`);
}

/** Refuses a file over the per-file limit from its size alone, before anything is read. */
export function checkFileSize(file: DumpFile, limits: DumpLimits): void {
  if (file.size > limits.maxFileBytes) throw tooBig(file, file.size, limits);
}

/** Refuses object files that together exceed the total limit. */
export function checkTotalSize(files: DumpFile[], limits: DumpLimits): void {
  const total = files.reduce((n, f) => n + f.size, 0);
  if (total > limits.maxTotalBytes) {
    throw new NetdoctorError('unreadable_dump', `the dump's object files add up to ${mib(total)} MiB; a dump may hold at most ${mib(limits.maxTotalBytes)} MiB of objects`);
  }
}

/**
 * Reads one file as text, re-checking at open time what the walk saw: not a symlink (O_NOFOLLOW),
 * a regular file (a FIFO swapped in is not waited on: O_NONBLOCK), and never more than the limit,
 * even if it grows while being read.
 */
export function readDumpFile(file: DumpFile, limits: DumpLimits): string {
  let fd: number;
  try {
    fd = openSync(file.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    throw new NetdoctorError('unreadable_dump', `cannot open ${file.rel} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new NetdoctorError('unreadable_dump', `${file.rel} is no longer a regular file`);
    if (stat.size > limits.maxFileBytes) throw tooBig(file, stat.size, limits);
    const buffer = Buffer.allocUnsafe(Math.min(limits.maxFileBytes + 1, stat.size + 1));
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > limits.maxFileBytes) throw tooBig(file, length, limits);
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}
