import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/connect.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runServer(dataDir: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', DATABASE_URL: '', REDIS_URL: '' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('the embedded database', () => {
  it('refuses a second process while one holds the data folder, and frees it on close', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'offers-lock-'));
    const first = openDatabase({ pgliteDir: join(dataDir, 'pgdata') });
    try {
      const second = await runServer(dataDir);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`in use by process ${process.pid}`);
    } finally {
      await first.close();
    }
    const again = openDatabase({ pgliteDir: join(dataDir, 'pgdata') });
    await again.close();
  }, 30_000);
});
