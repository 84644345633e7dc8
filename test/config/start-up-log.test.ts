// What an operator reads at start-up: which partner takes the activations, and the malloc setting
// that `npm start` sets but a process started any other way may lack.
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { backendEnv, backends } from '../helpers/backends.js';
import { prepareEmbeddedDataDir, Processes, removeEmbeddedTemplate, ServerProcess, waitFor } from '../helpers/processes.js';

const MALLOC_WARNING = (line: { level?: unknown; msg?: string }) => line.level === 40 && String(line.msg).includes('MALLOC_MMAP_THRESHOLD_');

describe('start-up log', () => {
  const procs = new Processes();
  const unmanaged: ServerProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await procs.killAll();
    for (const proc of unmanaged) if (proc.running) await proc.kill('SIGKILL');
    for (const cleanup of cleanups) await cleanup();
    await removeEmbeddedTemplate();
  });

  async function storage(backend: (typeof backends)[number]) {
    const { env, cleanup } = await backendEnv(backend);
    cleanups.push(async () => {
      await cleanup();
      rmSync(env.DATA_DIR!, { recursive: true, force: true });
    });
    if (backend === 'embedded') await prepareEmbeddedDataDir(env.DATA_DIR!);
    return env;
  }

  it('on the embedded default names the simulator, and says nothing about malloc when MALLOC_MMAP_THRESHOLD_ is set', async () => {
    const env = await storage('embedded');
    const server = await procs.start('embedded', { ...env, MALLOC_MMAP_THRESHOLD_: '131072' });
    const started = server.logs().filter((line) => line.msg === 'started');
    expect(started, server.describe()).toEqual([expect.objectContaining({ partner: 'simulator' })]);
    expect(server.logs().filter(MALLOC_WARNING)).toEqual([]);
  }, 120_000);

  it.each(backends.filter((b) => b === 'postgres'))('on %s refuses to start without a partner, names the partner host it was given, and warns once about peak RSS when MALLOC_MMAP_THRESHOLD_ is missing', async (backend) => {
    const env = await storage(backend);
    const { PARTNER_SIMULATOR: _simulator, ...withoutPartner } = env;
    const refused = new ServerProcess('no partner', { ...withoutPartner, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' });
    unmanaged.push(refused);
    // Starting with the simulator would be as final an answer as exiting: wait for either.
    await waitFor(async () => (!refused.running || refused.logIndex((line) => line.msg === 'started') >= 0 ? true : undefined), {
      what: 'the server without a partner to exit or start',
      timeoutMs: 60_000,
    });
    expect(refused.logIndex((line) => line.msg === 'started'), refused.describe()).toBe(-1);
    expect(await refused.exited, refused.describe()).toEqual({ code: 1, signal: null });
    expect(refused.output).toMatch(/^Configuration error: PARTNER_URL is required .*PARTNER_SIMULATOR=true/);

    // Left out rather than set empty: glibc reads an empty value as 0, and then every allocation
    // is its own mmap, which makes Node itself start slowly enough to time out on a busy machine.
    const server = await procs.start('postgres', { ...withoutPartner, PARTNER_URL: 'http://partner.internal:8080/api' });
    expect(server.logs().filter((line) => line.msg === 'started'), server.describe()).toEqual([
      expect.objectContaining({ partner: 'http partner.internal:8080' }),
    ]);
    const warnings = server.logs().filter(MALLOC_WARNING);
    expect(warnings, server.describe()).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/RSS.*MALLOC_MMAP_THRESHOLD_=131072/);
  }, 120_000);
});
