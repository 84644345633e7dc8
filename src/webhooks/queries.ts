// SQL for webhooks: endpoints, the fan-out into deliveries, claiming due deliveries under a lease
// and recording attempts. Time comes in as a parameter (the injected clock), so retries and the
// disable window can be tested by moving it.
import { type Transaction, sql } from 'kysely';
import type { Database } from '../db/connect.js';
import type { DB, WebhookDeliveryStatus } from '../db/types.js';
import type { KeysetSlice } from '../http/pagination.js';

type Db = Database | Transaction<DB>;

const ENDPOINT_COLUMNS = [
  'id',
  'url',
  'description',
  'events',
  'enabled',
  'disabled_reason',
  'failing_since',
  'last_success_at',
  'previous_secret_expires_at',
  'created_at',
  'updated_at',
] as const;

export interface NewEndpoint {
  url: string;
  description: string;
  events: string[];
  enabled: boolean;
  secret: string;
}

export function insertEndpoint(trx: Db, endpoint: NewEndpoint) {
  return trx
    .insertInto('webhook_endpoints')
    .values({ ...endpoint, events: JSON.stringify(endpoint.events) })
    .returning(ENDPOINT_COLUMNS)
    .executeTakeFirstOrThrow();
}

export type EndpointRow = Awaited<ReturnType<typeof insertEndpoint>>;

/** One endpoint; with `lock`, held until the transaction ends so its "before" stays true for the audit. */
export function findEndpoint(db: Db, id: number, options: { lock?: boolean } = {}) {
  return db
    .selectFrom('webhook_endpoints')
    .select(ENDPOINT_COLUMNS)
    .where('id', '=', id)
    .$if(options.lock === true, (q) => q.forUpdate())
    .executeTakeFirst();
}

export function listEndpoints(db: Database, slice: KeysetSlice) {
  const { after } = slice;
  return db
    .selectFrom('webhook_endpoints')
    .select(ENDPOINT_COLUMNS)
    .$if(after !== undefined, (q) => q.where('id', after!.op, after!.key))
    .orderBy('id', slice.order)
    .limit(slice.limit)
    .execute();
}

export async function countEndpoints(db: Database): Promise<number> {
  const row = await db.selectFrom('webhook_endpoints').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface EndpointChanges {
  url?: string;
  description?: string;
  events?: string[];
  enabled?: boolean;
}

export function updateEndpoint(trx: Db, id: number, changes: EndpointChanges, now: Date) {
  const { events, ...rest } = changes;
  return trx
    .updateTable('webhook_endpoints')
    .set({
      ...rest,
      ...(events !== undefined ? { events: JSON.stringify(events) } : {}),
      // Turned on again by a person: the failure window starts afresh.
      ...(changes.enabled === true ? { disabled_reason: null, failing_since: null } : {}),
      updated_at: now,
    })
    .where('id', '=', id)
    .returning(ENDPOINT_COLUMNS)
    .executeTakeFirst();
}

export async function deleteEndpoint(trx: Db, id: number): Promise<boolean> {
  const result = await trx.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

/** The new secret signs from now on; the current one keeps signing until `graceUntil`. */
export function rotateSecret(trx: Db, id: number, secret: string, now: Date, graceUntil: Date) {
  return trx
    .updateTable('webhook_endpoints')
    .set({ previous_secret: sql<string>`secret`, previous_secret_expires_at: graceUntil, secret, updated_at: now })
    .where('id', '=', id)
    .returning(ENDPOINT_COLUMNS)
    .executeTakeFirst();
}

/** The endpoints the fan-out considers: enabled ones, with what they subscribe to. */
export function enabledEndpoints(db: Db) {
  return db.selectFrom('webhook_endpoints').select(['id', 'events', 'created_at']).where('enabled', '=', true).execute();
}

export interface NewDelivery {
  endpoint_id: number;
  event_id: string;
  event_type: string;
  body: string;
  next_attempt_at: Date;
}

/** Idempotent on (endpoint, event): a batch handled again adds nothing. */
export async function insertDeliveries(db: Db, rows: NewDelivery[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insertInto('webhook_deliveries').values(rows).onConflict((oc) => oc.columns(['endpoint_id', 'event_id']).doNothing()).execute();
}

/**
 * Takes up to `limit` due deliveries of enabled endpoints for this owner until `leaseUntil` and
 * counts the attempt. SKIP LOCKED lets concurrent senders take different rows; the lease keeps a row
 * from being taken again while its sender may still be waiting for the endpoint's answer, and lets
 * another sender take it once a sender died in the middle.
 */
export function claimDue(db: Database, owner: string, now: Date, leaseUntil: Date, limit: number) {
  return db
    .updateTable('webhook_deliveries as d')
    .from('webhook_endpoints as e')
    .set({ lease_owner: owner, lease_until: leaseUntil, attempts: sql`d.attempts + 1` })
    .whereRef('e.id', '=', 'd.endpoint_id')
    .where('d.id', 'in', (eb) =>
      eb
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', now)]))
        .where('endpoint_id', 'in', (s) => s.selectFrom('webhook_endpoints').select('id').where('enabled', '=', true))
        .orderBy('next_attempt_at')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .where('d.status', '=', 'pending')
    .returning([
      'd.id',
      'd.endpoint_id',
      'd.event_id',
      'd.body',
      'd.attempts',
      'e.url',
      'e.secret',
      'e.previous_secret',
      'e.previous_secret_expires_at',
    ])
    .execute();
}

export type ClaimedDelivery = Awaited<ReturnType<typeof claimDue>>[number];

export interface AttemptRecord {
  delivery_id: number;
  attempted_at: Date;
  http_status: number | null;
  error: string | null;
  duration_ms: number;
  response_body: string | null;
  success: boolean;
}

export async function insertAttempt(trx: Db, attempt: AttemptRecord): Promise<void> {
  await trx.insertInto('webhook_attempts').values(attempt).execute();
}

/** Settles or reschedules a delivery, only while this owner still holds it; false when it lost it. */
export async function settleDelivery(
  trx: Db,
  id: number,
  owner: string,
  change: { status: WebhookDeliveryStatus; nextAttemptAt?: Date; deliveredAt?: Date },
): Promise<boolean> {
  const result = await trx
    .updateTable('webhook_deliveries')
    .set({
      status: change.status,
      lease_owner: null,
      lease_until: null,
      ...(change.nextAttemptAt ? { next_attempt_at: change.nextAttemptAt } : {}),
      ...(change.deliveredAt ? { delivered_at: change.deliveredAt } : {}),
    })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function markEndpointSucceeded(trx: Db, id: number, now: Date): Promise<void> {
  await trx.updateTable('webhook_endpoints').set({ failing_since: null, last_success_at: now }).where('id', '=', id).execute();
}

/**
 * Notes a failure; returns the endpoint when this failure ends its window (failing since at least
 * `disableBefore`) and it was disabled by this call. The disabling is compare-and-set on `enabled`,
 * so only one of several senders disables it (and writes the event).
 */
export async function markEndpointFailed(trx: Db, id: number, now: Date, disableBefore: Date, reason: string) {
  await trx
    .updateTable('webhook_endpoints')
    .set({ failing_since: sql<Date>`coalesce(failing_since, ${now}::timestamptz)` })
    .where('id', '=', id)
    .execute();
  return trx
    .updateTable('webhook_endpoints')
    .set({ enabled: false, disabled_reason: reason, updated_at: now })
    .where('id', '=', id)
    .where('enabled', '=', true)
    .where('failing_since', '<=', disableBefore)
    .returning(['id', 'url', 'failing_since', 'last_success_at'])
    .executeTakeFirst();
}

export interface DeliveryFilter {
  endpointId: number;
  status?: WebhookDeliveryStatus | undefined;
}

function deliveries(db: Database, filter: DeliveryFilter) {
  return db
    .selectFrom('webhook_deliveries')
    .where('endpoint_id', '=', filter.endpointId)
    .$if(filter.status !== undefined, (q) => q.where('status', '=', filter.status!));
}

const DELIVERY_COLUMNS = ['id', 'endpoint_id', 'event_id', 'event_type', 'status', 'attempts', 'next_attempt_at', 'delivered_at', 'created_at'] as const;

export function listDeliveries(db: Database, filter: DeliveryFilter, slice: KeysetSlice) {
  const { after } = slice;
  return deliveries(db, filter)
    .select(DELIVERY_COLUMNS)
    .$if(after !== undefined, (q) => q.where('id', after!.op, after!.key))
    .orderBy('id', slice.order)
    .limit(slice.limit)
    .execute();
}

export type DeliveryRow = Awaited<ReturnType<typeof listDeliveries>>[number];

export async function countDeliveries(db: Database, filter: DeliveryFilter): Promise<number> {
  const row = await deliveries(db, filter).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export function findDelivery(db: Db, endpointId: number, id: number) {
  return db.selectFrom('webhook_deliveries').select(DELIVERY_COLUMNS).where('endpoint_id', '=', endpointId).where('id', '=', id).executeTakeFirst();
}

export function attemptsOf(db: Database, deliveryIds: number[]) {
  if (deliveryIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('webhook_attempts')
    .select(['delivery_id', 'attempted_at', 'http_status', 'error', 'duration_ms', 'response_body', 'success'])
    .where('delivery_id', 'in', deliveryIds)
    .orderBy('id')
    .execute();
}

/**
 * Makes a delivery due again at `now` with a fresh count of attempts (the attempt log keeps the
 * old ones), unless a sender is talking to the endpoint about it right now.
 */
export function requeueDelivery(trx: Db, endpointId: number, id: number, now: Date) {
  return trx
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now, lease_owner: null, lease_until: null, delivered_at: null })
    .where('endpoint_id', '=', endpointId)
    .where('id', '=', id)
    .where((w) => w.or([w('lease_until', 'is', null), w('lease_until', '<', now)]))
    .returning(DELIVERY_COLUMNS)
    .executeTakeFirst();
}

/**
 * Deletes the delivery log's finished entries (delivered or given up, with their attempts by the
 * foreign key's cascade) made more than `retentionDays` before `now`: the log keeps what the outbox
 * keeps. A delivery still being retried stays, however old.
 */
export async function pruneDeliveries(db: Database, retentionDays: number, now: Date): Promise<number> {
  const result = await db
    .deleteFrom('webhook_deliveries')
    .where('status', '<>', 'pending')
    .where('created_at', '<', sql<Date>`${now}::timestamptz - make_interval(days => ${retentionDays})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
