// SQL for the offer catalogue.
import type { Static } from 'typebox';
import type { Database } from '../db/connect.js';
import type { KeysetSlice } from '../http/pagination.js';
import type { NewOffer, OfferPatch } from './schemas.js';

export const offerColumns = ['id', 'name', 'description', 'price', 'duration_days', 'is_active'] as const;

export function findOffer(db: Database, id: number, opts: { activeOnly: boolean }) {
  let query = db.selectFrom('offers').select(offerColumns).where('id', '=', id);
  if (opts.activeOnly) query = query.where('is_active', '=', true);
  return query.executeTakeFirst();
}

/** The offer as it is, locked until the surrounding transaction ends (the "before" of a change). */
export function lockOffer(db: Database, id: number) {
  return db.selectFrom('offers').select(offerColumns).where('id', '=', id).forUpdate().executeTakeFirst();
}

export function listOffers(db: Database, slice: KeysetSlice, opts: { activeOnly: boolean }) {
  let query = db.selectFrom('offers').select(offerColumns).orderBy('id', slice.order).limit(slice.limit);
  if (opts.activeOnly) query = query.where('is_active', '=', true);
  if (slice.after) query = query.where('id', slice.after.op, slice.after.key);
  return query.execute();
}

export async function countOffers(db: Database, opts: { activeOnly: boolean }) {
  let query = db.selectFrom('offers').select((eb) => eb.fn.countAll<number>().as('n'));
  if (opts.activeOnly) query = query.where('is_active', '=', true);
  return Number((await query.executeTakeFirstOrThrow()).n);
}

export function insertOffer(db: Database, offer: Static<typeof NewOffer>) {
  return db
    .insertInto('offers')
    .values({
      name: offer.name,
      description: offer.description ?? '',
      price: offer.price,
      duration_days: offer.duration_days,
      is_active: offer.is_active ?? true,
    })
    .returning(offerColumns)
    .executeTakeFirstOrThrow();
}

export function updateOffer(db: Database, id: number, patch: Static<typeof OfferPatch>) {
  return db
    .updateTable('offers')
    .set({ ...patch, updated_at: new Date() })
    .where('id', '=', id)
    .returning(offerColumns)
    .executeTakeFirst();
}
