// PGlite is a single-process database: two processes writing one data folder would corrupt it.
// A lock file holding the owner's pid keeps a second server (or the CLI) out while one runs.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';

export class EmbeddedDatabaseBusy extends Error {
  override name = 'EmbeddedDatabaseBusy';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock (replacing one left by a dead process) and returns its release function. */
export function lockEmbeddedDatabase(dir: string): () => void {
  const file = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new EmbeddedDatabaseBusy(
          `The embedded database in ${dir} is in use by process ${owner}; stop it first, or use DATABASE_URL for several processes`,
        );
      }
      unlinkSync(file); // left behind by a process that died
    }
  }
  throw new EmbeddedDatabaseBusy(`Could not lock the embedded database in ${dir}`);
}
