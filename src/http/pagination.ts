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

export async function keysetPage<T>(
  params: { limit: number; cursor?: string | undefined; order: SortOrder; maxKey?: number },
  keyOf: (row: T) => number,
  fetch: (slice: KeysetSlice) => Promise<T[]>,
): Promise<PageResult<T>> {
  const { limit, order } = params;
  const cursor = params.cursor === undefined ? undefined : decode(params.cursor, params.maxKey ?? INT4_MAX);
  const forward = cursor?.direction !== 'previous';
  const forwardOp = order === 'desc' ? '<' : '>';
  const backwardOp = order === 'desc' ? '>' : '<';
  const reversed: SortOrder = order === 'desc' ? 'asc' : 'desc';

  const rows = await fetch({
    after: cursor && { op: forward ? forwardOp : backwardOp, key: cursor.key },
    order: forward ? order : reversed,
    limit: limit + 1,
  });
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  if (!forward) page.reverse();
  const first = page[0];
  const last = page[page.length - 1];

  if (forward) {
    return {
      results: page,
      next: more && last ? encode(keyOf(last), 'next') : null,
      previous: cursor && first ? encode(keyOf(first), 'previous') : null,
    };
  }
  return {
    results: page,
    next: last ? encode(keyOf(last), 'next') : null,
    previous: more && first ? encode(keyOf(first), 'previous') : null,
  };
}
