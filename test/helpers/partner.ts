// A fake partner (provisioning) system on a real socket, answering as each test scripts it.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { type Backend, startApp, type TestApp } from './backends.js';

export interface PartnerCall {
  headers: IncomingHttpHeaders;
  body: { transaction_id: string; user_id: number; offer_id: number; amount: string; duration_days: number };
}

/** `reset`: the request arrived, then the connection drops without an answer. */
export type PartnerReply = { status: number; body?: unknown; delayMs?: number; reset?: boolean };

export class FakePartner {
  readonly calls: PartnerCall[] = [];
  #server: Server | undefined;
  /** Decides each answer from the call's number (1-based) and the call itself. */
  respond: (n: number, call: PartnerCall) => PartnerReply = () => ({ status: 200, body: { reference: 'REF-1' } });

  async start(): Promise<string> {
    this.#server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        const call = { headers: req.headers, body: JSON.parse(text) as PartnerCall['body'] };
        this.calls.push(call);
        const reply = this.respond(this.calls.length, call);
        if (reply.reset) {
          req.socket.destroy();
          return;
        }
        setTimeout(() => {
          if (res.destroyed) return;
          res.writeHead(reply.status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(reply.body ?? {}));
        }, reply.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
  }

  callsFor(transactionId: string): PartnerCall[] {
    return this.calls.filter((c) => c.body.transaction_id === transactionId);
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}

/**
 * A fake partner and an app on `backend` that calls it (PARTNER_URL), both started before the
 * block's first test and stopped after its last. Call inside a describe; the getter is for the tests.
 */
export function appWithPartner(backend: Backend, overrides: Record<string, string>): { partner: FakePartner; testApp: () => TestApp } {
  const partner = new FakePartner();
  let t: TestApp | undefined;
  beforeAll(async () => {
    t = await startApp(backend, { PARTNER_URL: await partner.start(), ...overrides });
  });
  afterAll(async () => {
    await t?.close();
    await partner.stop();
  });
  const testApp = () => {
    if (!t) throw new Error('the app is not started yet');
    return t;
  };
  return { partner, testApp };
}
