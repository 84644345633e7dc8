// A fake partner (provisioning) system on a real socket, answering as each test scripts it.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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
