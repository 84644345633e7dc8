// The README's quick start runs `npm start`: it builds, serves the embedded default, and stops
// cleanly when the npm process itself gets SIGTERM, as a process manager or container runtime sends it.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { backendEnv } from '../helpers/backends.js';
import { call, prepareEmbeddedDataDir, Processes, removeEmbeddedTemplate } from '../helpers/processes.js';

describe('npm start', () => {
  const procs = new Processes();
  let dataDir: string | undefined;
  afterAll(async () => {
    await procs.killAll();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await removeEmbeddedTemplate();
  });

  it('builds and serves, and on SIGTERM to npm the server finishes its shutdown and npm exits 0', async () => {
    const { env } = await backendEnv('embedded');
    dataDir = env.DATA_DIR!;
    await prepareEmbeddedDataDir(dataDir);
    const server = await procs.start('npm start', env, ['npm', 'start']);
    expect((await call(server.url, 'GET', '/health')).status).toBe(200);

    const exit = await server.kill('SIGTERM');
    expect(exit, server.describe()).toEqual({ code: 0, signal: null });
    expect(server.logIndex((line) => line.msg === 'shutdown complete'), server.describe()).toBeGreaterThanOrEqual(0);
  }, 120_000);
});
