// The offer catalogue, for buyers (active offers) and for admins (all offers).
import type { Static } from 'typebox';
import type { Database } from '../db/connect.js';
import { notFound } from '../http/errors.js';
import { keysetPage } from '../http/pagination.js';
import * as q from './queries.js';
import type { NewOffer, OfferPatch } from './schemas.js';

export type OfferRow = Awaited<ReturnType<typeof q.insertOffer>>;

export async function offerPage(db: Database, page: { limit: number; cursor?: string | undefined }, activeOnly: boolean) {
  const [count, result] = await Promise.all([
    q.countOffers(db, { activeOnly }),
    keysetPage({ ...page, order: 'asc' }, (o: OfferRow) => o.id, (slice) => q.listOffers(db, slice, { activeOnly })),
  ]);
  return { count, ...result };
}

export async function getOffer(db: Database, id: number, activeOnly: boolean): Promise<OfferRow> {
  const offer = await q.findOffer(db, id, { activeOnly });
  if (!offer) throw notFound('Offer not found');
  return offer;
}

export function createOffer(db: Database, offer: Static<typeof NewOffer>) {
  return q.insertOffer(db, offer);
}

export async function changeOffer(db: Database, id: number, patch: Static<typeof OfferPatch>) {
  const offer = await q.updateOffer(db, id, patch);
  if (!offer) throw notFound('Offer not found');
  return offer;
}
