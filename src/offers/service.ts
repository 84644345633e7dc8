// The offer catalogue, for buyers (active offers) and for admins (all offers).
import { LRUCache } from 'lru-cache';
import type { Static } from 'typebox';
import { type AuditContext, auditTarget } from '../audit/domain.js';
import { recordAuditIf } from '../audit/service.js';
import type { Database } from '../db/connect.js';
import { notFound } from '../domain/errors.js';
import { keysetPage } from '../http/pagination.js';
import * as q from './queries.js';
import type { NewOffer, OfferPatch } from './schemas.js';

export type OfferRow = Awaited<ReturnType<typeof q.insertOffer>>;

type PageQuery = { limit: number; cursor?: string | undefined };

async function readOfferPage(db: Database, page: PageQuery, activeOnly: boolean) {
  const [count, result] = await Promise.all([
    q.countOffers(db, { activeOnly }),
    keysetPage({ ...page, order: 'asc' }, (o: OfferRow) => o.id, (slice) => q.listOffers(db, slice, { activeOnly })),
  ]);
  return { count, ...result };
}

type OfferPage = Awaited<ReturnType<typeof readOfferPage>>;

/**
 * Buyers read the catalogue on nearly every visit and it changes rarely, so pages of active offers
 * are kept in memory, per database. Changes made through this process clear them at once; changes
 * made by another process (a second API instance, the CLI) show within CATALOGUE_TTL_MS. A stale
 * page can never sell an inactive offer: the charge reads the offer in its own transaction.
 */
const CATALOGUE_TTL_MS = 1000;
const catalogues = new WeakMap<Database, LRUCache<string, Promise<OfferPage>>>();

function catalogueOf(db: Database) {
  let cache = catalogues.get(db);
  if (!cache) {
    cache = new LRUCache({ max: 100, ttl: CATALOGUE_TTL_MS });
    catalogues.set(db, cache);
  }
  return cache;
}

export function offerPage(db: Database, page: PageQuery, activeOnly: boolean): Promise<OfferPage> {
  if (!activeOnly) return readOfferPage(db, page, false);
  const cache = catalogueOf(db);
  const key = `${page.limit}:${page.cursor ?? ''}`;
  let cached = cache.get(key);
  if (!cached) {
    // Concurrent misses share one read; a failed read is not kept.
    cached = readOfferPage(db, page, true);
    cache.set(key, cached);
    cached.catch(() => cache.delete(key));
  }
  return cached;
}

export async function getOffer(db: Database, id: number, activeOnly: boolean): Promise<OfferRow> {
  const offer = await q.findOffer(db, id, { activeOnly });
  if (!offer) throw notFound('Offer');
  return offer;
}

/** `audit`: the admin creating it; the offer and its audit row commit together. */
export async function createOffer(db: Database, offer: Static<typeof NewOffer>, audit?: AuditContext) {
  const created = await db.transaction().execute(async (trx) => {
    const row = await q.insertOffer(trx, offer);
    await recordAuditIf(trx, audit, { action: 'offer.create', target: auditTarget.offer(row.id), after: row });
    return row;
  });
  catalogues.get(db)?.clear();
  return created;
}

export async function changeOffer(db: Database, id: number, patch: Static<typeof OfferPatch>, audit?: AuditContext) {
  const offer = await db.transaction().execute(async (trx) => {
    const before = await q.lockOffer(trx, id);
    if (!before) return undefined;
    const after = await q.updateOffer(trx, id, patch);
    await recordAuditIf(trx, audit, { action: 'offer.update', target: auditTarget.offer(id), before, after });
    return after;
  });
  catalogues.get(db)?.clear();
  if (!offer) throw notFound('Offer');
  return offer;
}
