// Runs the CLI as a real process, and opens the same database afterwards to check its effects.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { bootstrap } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config.js';
import type { Database } from '../../src/db/connect.js';
import { createRuntime } from '../../src/runtime.js';
import { type Backend, backendEnv } from '../helpers/backends.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Each test starts a few processes; on a busy machine one can take several seconds. */
export const CLI_TIMEOUT = 120_000;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a TypeScript entry point of the repository (through tsx) to its end. Only the variables given
 * reach the process (plus PATH/HOME), so an outer DATABASE_URL never leaks in.
 */
export function runScript(script: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export const runCli = (args: string[], env: Record<string, string>) => runScript('src/cli.ts', args, env);

export interface CliBackend {
  env: Record<string, string>;
  /** Opens the database the CLI used, with the app on top; closed before the next CLI run. */
  withApp<T>(run: (app: FastifyInstance, db: Database) => Promise<T>): Promise<T>;
  cleanup(): Promise<void>;
}

export async function cliBackend(backend: Backend): Promise<CliBackend> {
  const { env, cleanup } = await backendEnv(backend);
  return {
    env,
    async withApp(run) {
      const runtime = await createRuntime(loadConfig(env));
      try {
        await bootstrap(runtime);
        const app = await buildApp(runtime);
        try {
          await app.ready();
          return await run(app, runtime.db);
        } finally {
          await app.close();
        }
      } finally {
        await runtime.close();
      }
    },
    async cleanup() {
      await cleanup();
      rmSync(env.DATA_DIR!, { recursive: true, force: true });
    },
  };
}
