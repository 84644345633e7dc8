// A webhook receiver as its own process (run with tsx): records every request's raw body and
// headers and answers as scripted through its control routes. It prints {"port": N} once listening.
//   POST /_control/script {path, replies: [{status, body?} | {hang: true}]}  answers for the next requests to `path`
//   GET  /_control/requests?path=/x                                          what `path` received so far
// A path with no script left answers 200 "ok".
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Reply = { status: number; body?: string } | { hang: true };

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  at: number;
}

const scripts = new Map<string, Reply[]>();
const received: Received[] = [];

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, value: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

const server = createServer((req, res) => {
  void (async () => {
    const url = new URL(req.url ?? '/', 'http://receiver');
    const body = await readBody(req);
    if (url.pathname === '/_control/script' && req.method === 'POST') {
      const { path, replies } = JSON.parse(body) as { path: string; replies: Reply[] };
      scripts.set(path, [...(scripts.get(path) ?? []), ...replies]);
      return json(res, 200, { ok: true });
    }
    if (url.pathname === '/_control/requests') {
      const path = url.searchParams.get('path');
      return json(res, 200, received.filter((r) => path === null || r.path === path));
    }
    received.push({ path: url.pathname, headers: req.headers, body, at: Date.now() });
    const reply = scripts.get(url.pathname)?.shift() ?? { status: 200, body: 'ok' };
    // Hanging: the request is read and never answered; the sender's time limit has to end it.
    if ('hang' in reply) return;
    res.writeHead(reply.status, { 'content-type': 'text/plain' });
    res.end(reply.body ?? '');
  })();
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
