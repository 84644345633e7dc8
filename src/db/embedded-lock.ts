// PGlite is a single-process database: two processes writing one data folder would corrupt it.
// A lock file naming its owner keeps a second server (or the CLI) out while one runs.
//
// A pid alone is not an owner: after a kill -9 the pid is soon reused by another process, and the
// lock would then block every start until someone deletes it. So the file also holds the kernel's
// boot id and the process start time, which together name one process for good (Linux /proc).
// A kernel-released flock would need a native addon compiled at every install (fs-ext has no
// prebuilt binaries), and the embedded default promises nothing but Node.js.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';

export class EmbeddedDatabaseBusy extends Error {
  override name = 'EmbeddedDatabaseBusy';
}

interface Owner {
  pid: number;
  /** /proc/sys/kernel/random/boot_id and field 22 of /proc/<pid>/stat; absent where there is no /proc. */
  boot?: string;
  start?: string;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Start time in clock ticks since boot; the command name in parentheses may hold spaces or ')'. */
function startTime(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function identify(pid: number): Owner {
  const boot = readProc('/proc/sys/kernel/random/boot_id')?.trim();
  const start = startTime(pid);
  return boot && start ? { pid, boot, start } : { pid };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Files written before start times were recorded hold a bare pid. */
function parseOwner(text: string): Owner | undefined {
  try {
    const owner = JSON.parse(text) as Partial<Owner> | number;
    if (typeof owner === 'number') return Number.isInteger(owner) && owner > 0 ? { pid: owner } : undefined;
    return Number.isInteger(owner.pid) && owner.pid! > 0 ? (owner as Owner) : undefined;
  } catch {
    return undefined;
  }
}

function stillRunning(owner: Owner): boolean {
  if (!alive(owner.pid)) return false;
  if (owner.boot === undefined || owner.start === undefined) return true;
  const now = identify(owner.pid);
  // Without /proc here there is nothing to compare: trust the live pid, as before.
  if (now.start === undefined) return true;
  return now.boot === owner.boot && now.start === owner.start;
}

/** Takes the lock (replacing one left by a process that is gone) and returns its release function. */
export function lockEmbeddedDatabase(dir: string): () => void {
  const file = `${dir}.lock`;
  const mine = JSON.stringify(identify(process.pid));
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(file, mine, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(file, 'utf8') === mine) unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = parseOwner(readFileSync(file, 'utf8'));
      if (owner && owner.pid !== process.pid && stillRunning(owner)) {
        throw new EmbeddedDatabaseBusy(
          `The embedded database in ${dir} is in use by process ${owner.pid}; stop it first, or use DATABASE_URL for several processes`,
        );
      }
      unlinkSync(file); // left behind by a process that is gone
    }
  }
  throw new EmbeddedDatabaseBusy(`Could not lock the embedded database in ${dir}`);
}
