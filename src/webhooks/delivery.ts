// One webhook POST over Node's http/https: the address guard on every connection, one time limit
// for the whole exchange, and the first KiB of the answer kept. Never throws: every outcome is an
// AttemptResult for the attempt log.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { checkLiteral, guardedLookup } from './address-guard.js';
import { type AttemptResult, RESPONSE_EXCERPT_BYTES } from './domain.js';

export interface PostOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  allowPrivate: boolean;
}

const USER_AGENT = 'offers-api-webhooks/1';

function describeError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  return (typeof e.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message).slice(0, 1000);
}

export async function postWebhook(options: PostOptions): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let url: URL;
  try {
    url = new URL(options.url);
    // A literal address is dialled without a lookup, so it is checked here.
    checkLiteral(url.hostname, options.allowPrivate);
  } catch (err) {
    return { httpStatus: null, error: describeError(err), responseBody: null, durationMs: elapsed() };
  }
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const timer = setTimeout(() => {
      fail(new Error(`no complete answer within ${options.timeoutMs} ms`));
      req.destroy();
    }, options.timeoutMs);
    const finish = (result: Omit<AttemptResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, durationMs: elapsed() });
    };
    const fail = (err: unknown) => finish({ httpStatus: null, error: describeError(err), responseBody: null });

    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, {
      method: 'POST',
      lookup: guardedLookup(options.allowPrivate),
      // One connection per attempt: a pooled socket would skip the lookup and its check.
      agent: false,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(options.body),
        'user-agent': USER_AGENT,
        ...options.headers,
      },
    });
    req.on('error', fail);
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      const done = () => {
        finish({ httpStatus: res.statusCode ?? null, error: null, responseBody: Buffer.concat(chunks).toString('utf8') });
        res.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        if (kept < RESPONSE_EXCERPT_BYTES) {
          const part = chunk.subarray(0, RESPONSE_EXCERPT_BYTES - kept);
          chunks.push(part);
          kept += part.length;
        }
        // The rest of a long answer is not needed.
        if (kept >= RESPONSE_EXCERPT_BYTES) done();
      });
      res.on('end', done);
      res.on('error', fail);
    });
    req.end(options.body);
  });
}
