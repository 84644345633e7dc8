import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedDir, openDatabase } from '../../src/db/connect.js';
import { backendEnv } from '../helpers/backends.js';
import { prepareEmbeddedDataDir, Processes, removeEmbeddedTemplate, ServerProcess } from '../helpers/processes.js';

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
  const procs = new Processes();
  const dataDirs: string[] = [];
  afterAll(async () => {
    await procs.killAll();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    await removeEmbeddedTemplate();
  });

  it('refuses a second process while one holds the data folder, and frees it on close', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'offers-lock-'));
    dataDirs.push(dataDir);
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

  it('keeps a second server out while one runs, and after a kill -9 starts even when another process has taken the dead server’s pid', async () => {
    const { env } = await backendEnv('embedded');
    dataDirs.push(env.DATA_DIR!);
    await prepareEmbeddedDataDir(env.DATA_DIR!);
    const first = await procs.start('first', env);

    const second = new ServerProcess('second', { ...env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' });
    expect(await second.exited, second.describe()).toEqual({ code: 1, signal: null });
    expect(second.output).toContain(`in use by process ${first.child.pid}`);

    expect(await first.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    // The kernel hands pids out again; here a process that is no server holds the dead one's pid.
    const unrelated = spawn('sleep', ['120'], { stdio: 'ignore' });
    try {
      const lock = `${embeddedDir(env.DATA_DIR!)}.lock`;
      const left = readFileSync(lock, 'utf8');
      expect(left).toContain(String(first.child.pid));
      writeFileSync(lock, left.replace(new RegExp(`\\b${first.child.pid}\\b`), String(unrelated.pid)));

      const third = await procs.start('third', env);
      expect(third.running).toBe(true);
    } finally {
      unrelated.kill('SIGKILL');
    }
  }, 120_000);
});
