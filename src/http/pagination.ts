// Keyset pagination: pages are found through an index on a monotonic key, so page 10,000 costs
// what page 1 costs. Cursors are opaque to clients.
import { invalid } from '../domain/errors.js';

type Direction = 'next' | 'previous';
export type SortOrder = 'asc' | 'desc';

export interface KeysetSlice {
  /** Rows strictly beyond this key in the given comparison, or all rows when undefined. */
  after: { op: '<' | '>'; key: number } | undefined;
  order: SortOrder;
  limit: number;
}

export interface PageResult<T> {
  next: string | null;
  previous: string | null;
  results: T[];
}

function encode(key: number, direction: Direction): string {
  return Buffer.from(`${direction === 'next' ? 'n' : 'p'}:${key}`).toString('base64url');
}

/** The largest `integer` column value; keys beyond it would make the query fail instead of match nothing. */
const INT4_MAX = 2_147_483_647;

function decode(cursor: string, maxKey: number): { key: number; direction: Direction } {
  const match = /^([np]):(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match || Number(match[2]) > maxKey) throw invalid('invalid_cursor', 'cursor is not valid');
  return { direction: match[1] === 'n' ? 'next' : 'previous', key: Number(match[2]) };
}

/** What a page request asks of the database: the slice to fetch (one row more than the page, to see if more follow). */
export interface KeysetRequest {
  slice: KeysetSlice;
  /** Walking in the list's order (`next`, or the first page), or against it (`previous`). */
  forward: boolean;
  /** A page reached through a cursor, so there is a page before it. */
  fromCursor: boolean;
  /** Rows in the page. */
  limit: number;
}

export function keysetRequest(params: { limit: number; cursor?: string | undefined; order: SortOrder; maxKey?: number }): KeysetRequest {
  const { limit, order } = params;
  const cursor = params.cursor === undefined ? undefined : decode(params.cursor, params.maxKey ?? INT4_MAX);
  const forward = cursor?.direction !== 'previous';
  const forwardOp = order === 'desc' ? '<' : '>';
  const backwardOp = order === 'desc' ? '>' : '<';
  const reversed: SortOrder = order === 'desc' ? 'asc' : 'desc';
  return {
    slice: { after: cursor && { op: forward ? forwardOp : backwardOp, key: cursor.key }, order: forward ? order : reversed, limit: limit + 1 },
    forward,
    fromCursor: cursor !== undefined,
    limit,
  };
}

/** The cursors of a page, from whether more rows were fetched than it holds and the keys of its first and last rows (in list order). */
export function keysetLinks(
  request: KeysetRequest,
  page: { more: boolean; first: number | undefined; last: number | undefined },
): { next: string | null; previous: string | null } {
  const { more, first, last } = page;
  if (request.forward) {
    return {
      next: more && last !== undefined ? encode(last, 'next') : null,
      previous: request.fromCursor && first !== undefined ? encode(first, 'previous') : null,
    };
  }
  return {
    next: last !== undefined ? encode(last, 'next') : null,
    previous: more && first !== undefined ? encode(first, 'previous') : null,
  };
}

export async function keysetPage<T>(
  params: { limit: number; cursor?: string | undefined; order: SortOrder; maxKey?: number },
  keyOf: (row: T) => number,
  fetch: (slice: KeysetSlice) => Promise<T[]>,
): Promise<PageResult<T>> {
  const request = keysetRequest(params);
  const rows = await fetch(request.slice);
  const page = rows.slice(0, request.limit);
  if (!request.forward) page.reverse();
  const first = page[0];
  const last = page[page.length - 1];
  const links = keysetLinks(request, {
    more: rows.length > request.limit,
    first: first === undefined ? undefined : keyOf(first),
    last: last === undefined ? undefined : keyOf(last),
  });
  return { results: page, ...links };
}
