// The facts a notification needs beyond its event: activation events carry the offer's id, not its
// name; the end of a period is on the subscription; and lifecycle events may name their fields a
// little differently. Looked up once per batch; what the event itself says always wins.
import type { Database } from '../db/connect.js';
import type { ConsumedEvent } from '../events/queries.js';

type Data = Record<string, unknown>;

const positiveInt = (value: unknown): number | undefined => {
  const n = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 2_147_483_647 ? n : undefined;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const nested = (data: Data, key: string): Data => {
  const value = data[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Data) : {};
};

/** The subscription an event is about: its own field, a nested object, or the subject of a subscription.* event. */
const subscriptionOf = (e: ConsumedEvent) =>
  positiveInt(e.data.subscription_id) ?? positiveInt(nested(e.data, 'subscription').id) ?? (e.type.startsWith('subscription.') ? positiveInt(e.subject) : undefined);

/** Each event's data with offer_name, offer_id and expires_at filled in where they can be found. */
export async function eventFacts(db: Database, events: ConsumedEvent[]): Promise<Map<string, Data>> {
  const subscriptionIds = [...new Set(events.map(subscriptionOf).filter((id) => id !== undefined))];
  const activationIds = events
    .filter((e) => e.type === 'activation.succeeded' && typeof e.data.transaction_id === 'string' && UUID.test(e.data.transaction_id))
    .map((e) => e.data.transaction_id as string);
  const [subscriptions, periods] = await Promise.all([
    subscriptionIds.length === 0
      ? []
      : db.selectFrom('subscriptions').select(['id', 'user_id', 'offer_id', 'expires_at']).where('id', 'in', subscriptionIds).execute(),
    activationIds.length === 0
      ? []
      : db.selectFrom('subscriptions').select(['transaction_id', 'expires_at']).where('transaction_id', 'in', activationIds).execute(),
  ]);
  const found = new Map(subscriptions.map((s) => [s.id, s]));
  // Only the event's own person's subscription: an event never shows someone else's offer.
  const subscriptionFor = (e: ConsumedEvent) => {
    const subscription = found.get(subscriptionOf(e) ?? 0);
    return subscription?.user_id === e.user_id ? subscription : undefined;
  };
  const endsOf = new Map(periods.map((p) => [p.transaction_id, p.expires_at.toISOString()]));

  const offerOf = (e: ConsumedEvent) =>
    positiveInt(e.data.offer_id) ?? positiveInt(nested(e.data, 'offer').id) ?? subscriptionFor(e)?.offer_id;
  const offerIds = [...new Set(events.map(offerOf).filter((id) => id !== undefined))];
  const offers = offerIds.length === 0 ? [] : await db.selectFrom('offers').select(['id', 'name']).where('id', 'in', offerIds).execute();
  const offerNames = new Map(offers.map((o) => [o.id, o.name]));

  return new Map(
    events.map((e) => {
      const looked: Data = {};
      const offerId = offerOf(e);
      if (offerId !== undefined) looked.offer_id = offerId;
      const name = nested(e.data, 'offer').name ?? (offerId !== undefined ? offerNames.get(offerId) : undefined);
      if (name !== undefined) looked.offer_name = name;
      const ends = endsOf.get(e.data.transaction_id as string) ?? subscriptionFor(e)?.expires_at.toISOString();
      if (ends !== undefined) looked.expires_at = ends;
      return [e.id, { ...looked, ...e.data }];
    }),
  );
}
