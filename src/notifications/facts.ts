// The facts a notification needs beyond its event: activation events carry the offer's id, not its
// name, and the new end date is on the subscription. Looked up once per batch; what the event
// itself says wins.
import type { Database } from '../db/connect.js';
import type { ConsumedEvent } from '../events/queries.js';

type Data = Record<string, unknown>;

const positiveInt = (value: unknown): number | undefined => {
  const n = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Each event's data with offer_name (and, for a successful activation, expires_at) filled in. */
export async function eventFacts(db: Database, events: ConsumedEvent[]): Promise<Map<string, Data>> {
  const offerIds = [...new Set(events.map((e) => positiveInt(e.data.offer_id)).filter((id) => id !== undefined))];
  const activationIds = events
    .filter((e) => e.type === 'activation.succeeded' && typeof e.data.transaction_id === 'string' && UUID.test(e.data.transaction_id))
    .map((e) => e.data.transaction_id as string);
  const [offers, periods] = await Promise.all([
    offerIds.length === 0 ? [] : db.selectFrom('offers').select(['id', 'name']).where('id', 'in', offerIds).execute(),
    activationIds.length === 0
      ? []
      : db.selectFrom('subscriptions').select(['transaction_id', 'expires_at']).where('transaction_id', 'in', activationIds).execute(),
  ]);
  const offerNames = new Map(offers.map((o) => [o.id, o.name]));
  const endsOf = new Map(periods.map((p) => [p.transaction_id, p.expires_at.toISOString()]));

  return new Map(
    events.map((e) => {
      const offerId = positiveInt(e.data.offer_id);
      const looked: Data = {};
      if (offerId !== undefined && offerNames.has(offerId)) looked.offer_name = offerNames.get(offerId);
      const ends = endsOf.get(e.data.transaction_id as string);
      if (ends !== undefined) looked.expires_at = ends;
      return [e.id, { ...looked, ...e.data }];
    }),
  );
}
