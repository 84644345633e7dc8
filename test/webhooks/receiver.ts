// The test side of test/helpers/webhook-receiver.ts: starts it as a child process, scripts its
// answers and reads what it received, and verifies Offers-Signature the way a receiver would.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { repoRoot, waitFor } from '../helpers/processes.js';

export type Reply = { status: number; body?: string } | { hang: true };

export interface Received {
  path: string;
  headers: Record<string, string | undefined>;
  body: string;
  at: number;
}

export class WebhookReceiver {
  #child: ChildProcess | undefined;
  #output = '';
  port = 0;

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/webhook-receiver.ts'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.#output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.#output += chunk));
    this.port = await waitFor(async () => {
      const match = /\{"port":(\d+)\}/.exec(this.#output);
      return match ? Number(match[1]) : undefined;
    }, { what: 'the webhook receiver to listen', timeoutMs: 30_000, intervalMs: 25, context: () => this.#output });
  }

  url(path: string, host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  async #control(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`http://127.0.0.1:${this.port}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`receiver control ${path}: ${res.status}`);
    return res.json();
  }

  async script(path: string, ...replies: Reply[]): Promise<void> {
    await this.#control('POST', '/_control/script', { path, replies });
  }

  async requests(path: string): Promise<Received[]> {
    return (await this.#control('GET', `/_control/requests?path=${encodeURIComponent(path)}`)) as Received[];
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

/** The v1= signatures of an Offers-Signature header that match `secret`, and its t=. */
export function verifySignature(header: string | undefined, secret: string, body: string): { t: number; valid: number; total: number } {
  const parts = (header ?? '').split(',').map((p) => p.split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = parts.filter(([k]) => k === 'v1').map(([, v]) => Buffer.from(v ?? '', 'hex'));
  const valid = given.filter((sig) => sig.length === expected.length && timingSafeEqual(sig, expected)).length;
  return { t, valid, total: given.length };
}
