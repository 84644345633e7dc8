// Requests Node's HTTP parser refuses before Fastify sees them (a control byte in a header,
// Content-Length with chunked, headers too large, a timeout) still answer in the API's error shape.
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

const ANSWERS: Record<string, { status: number; code: string; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'request_timeout', message: 'The request took too long to arrive' },
  HPE_HEADER_OVERFLOW: { status: 431, code: 'headers_too_large', message: 'The request line or headers are too large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, code: 'payload_too_large', message: 'Chunk extensions are too large' },
  HPE_INVALID_TRANSFER_ENCODING: { status: 400, code: 'bad_request', message: 'Transfer-Encoding is invalid or sent with Content-Length' },
  HPE_UNEXPECTED_CONTENT_LENGTH: { status: 400, code: 'bad_request', message: 'Content-Length and Transfer-Encoding cannot be sent together' },
  HPE_INVALID_HEADER_TOKEN: { status: 400, code: 'bad_request', message: 'A header holds a character that is not allowed' },
};

const URI_TOO_LONG = { status: 414, code: 'uri_too_long', message: 'The URL is too long' };
const MALFORMED = { status: 400, code: 'bad_request', message: 'Malformed HTTP request' };

// rawPacket: the bytes being parsed when the parser gave up (a Buffer, whatever Fastify's types say).
type ClientError = Error & { code?: string; rawPacket?: unknown };

// Node reports a URL too long and too many header bytes alike; a request line that fills the whole
// header budget on its own is the URL's fault.
function answerFor(err: ClientError) {
  const packet = err.rawPacket;
  if (err.code === 'HPE_HEADER_OVERFLOW' && Buffer.isBuffer(packet)) {
    const lineEnd = packet.indexOf('\r\n');
    if ((lineEnd === -1 ? packet.length : lineEnd) > maxHeaderSize) return URI_TOO_LONG;
  }
  return ANSWERS[err.code ?? ''] ?? MALFORMED;
}

/** Fastify's `clientErrorHandler`: answers once, if nothing was sent on the socket yet, then closes it. */
export function clientErrorHandler(this: FastifyInstance, err: ClientError, socket: Socket): void {
  // A reset connection has no one left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, code, message } = answerFor(err);
  this.log.debug({ err }, 'client error');
  // A response already under way on this socket (keep-alive) cannot be followed by another status line.
  const inProgress = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inProgress?.headersSent) {
    const body = JSON.stringify({ error: message, code });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
