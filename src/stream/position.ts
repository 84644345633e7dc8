// A place in the outbox as the stream hands it to clients: the (xid, seq) pair the outbox is read
// in (see events/queries.ts eventsAfter), sent as an opaque SSE id and taken back from Last-Event-ID.
import type { ConsumerPosition } from '../events/queries.js';

export type Position = ConsumerPosition;

const XID8_MAX = 2n ** 64n - 1n;
const SEQ_MAX = 2n ** 63n - 1n;

export function encodePosition(p: Position): string {
  return Buffer.from(`${p.xid}:${p.seq}`).toString('base64url');
}

/** The position an id names, or undefined for anything this server did not hand out. */
export function decodePosition(id: string): Position | undefined {
  if (!/^[A-Za-z0-9_-]{1,60}$/.test(id)) return undefined;
  const match = /^(\d{1,20}):(\d{1,19})$/.exec(Buffer.from(id, 'base64url').toString('latin1'));
  if (!match) return undefined;
  const xid = BigInt(match[1]!);
  const seq = BigInt(match[2]!);
  if (xid > XID8_MAX || seq > SEQ_MAX || seq > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { xid: xid.toString(), seq: Number(seq) };
}

/** Outbox order: negative when a comes first. */
export function comparePositions(a: Position, b: Position): number {
  const ax = BigInt(a.xid);
  const bx = BigInt(b.xid);
  if (ax !== bx) return ax < bx ? -1 : 1;
  return a.seq - b.seq;
}
