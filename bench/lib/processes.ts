// Child processes of the benchmark: the service (built JS), the CLI, the bare baseline server,
// and the sampling of their resident memory.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const OUTPUT_TAIL_CHARS = 8000;

/** A port nobody listens on right now (the kernel's pick, released again). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export class NodeProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  #output = '';
  #done = false;

  constructor(
    readonly name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    cwd: string,
  ) {
    this.child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: string) => {
      this.#output = (this.#output + chunk).slice(-OUTPUT_TAIL_CHARS);
    };
    this.child.stdout!.setEncoding('utf8').on('data', keep);
    this.child.stderr!.setEncoding('utf8').on('data', keep);
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code) => {
        this.#done = true;
        resolve(code);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get output(): string {
    return this.#output;
  }

  get running(): boolean {
    return !this.#done;
  }

  /** SIGTERM (graceful shutdown), then SIGKILL if it takes too long. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.#done) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Runs a command to completion; rejects with its output when it fails. */
export async function runNode(name: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, onLine?: (line: string) => void) {
  const proc = new NodeProcess(name, args, env, cwd);
  if (onLine) {
    let partial = '';
    const split = (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') onLine(line);
    };
    proc.child.stdout!.on('data', split);
    proc.child.stderr!.on('data', split);
  }
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${name} exited with ${code}:\n${proc.output}`);
  return proc.output;
}

/** Polls `url` until it answers 200, or fails with the process output when the process dies first. */
export async function waitForHttp(url: string, proc: NodeProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!proc.running) throw new Error(`${proc.name} exited during start-up:\n${proc.output}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${proc.name} did not answer ${url} within ${timeoutMs} ms:\n${proc.output}`);
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Samples VmRSS of the service processes every 200 ms; VmHWM (the kernel's peak) is read at the end. */
export class RssSampler {
  readonly #peaks = new Map<string, { pid: number; peakKb: number }>();
  readonly #timer: NodeJS.Timeout;

  constructor(procs: NodeProcess[]) {
    for (const p of procs) this.#peaks.set(p.name, { pid: p.pid, peakKb: 0 });
    this.#timer = setInterval(() => this.sample(), 200);
    this.#timer.unref();
  }

  sample(): void {
    for (const entry of this.#peaks.values()) {
      const kb = statusKb(entry.pid, 'VmRSS');
      if (kb !== undefined && kb > entry.peakKb) entry.peakKb = kb;
    }
  }

  /** Peak RSS per process in MB: the higher of the sampled VmRSS and the kernel's VmHWM. */
  finish(): Record<string, number> {
    clearInterval(this.#timer);
    this.sample();
    const result: Record<string, number> = {};
    for (const [name, entry] of this.#peaks) {
      const hwm = statusKb(entry.pid, 'VmHWM') ?? 0;
      result[name] = Math.round(Math.max(hwm, entry.peakKb) / 1024);
    }
    return result;
  }
}
