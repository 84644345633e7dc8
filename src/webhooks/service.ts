// Webhook use cases: the admins' endpoint and delivery management, each mutation in one
// transaction, and recordAttempt, the one place an attempt's outcome is written.
import type { Transaction } from 'kysely';
import { type AuditContext, auditTarget } from '../audit/domain.js';
import { recordAudit } from '../audit/service.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/connect.js';
import type { DB } from '../db/types.js';
import { DomainError, notFound } from '../domain/errors.js';
import { emit } from '../events/outbox.js';
import { keysetPage } from '../http/pagination.js';
import { checkEndpointUrl } from './address-guard.js';
import {
  type AttemptResult,
  type DeliveryStatus,
  type DeliveryView,
  type EndpointView,
  isSuccess,
  retryDelayMs,
  ROTATION_GRACE_MS,
} from './domain.js';
import * as q from './queries.js';
import { newSecret } from './signature.js';

export interface WebhookContext {
  db: Database;
  clock: Clock;
  allowPrivate: boolean;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function endpointView(row: q.EndpointRow): EndpointView {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.events,
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    failing_since: iso(row.failing_since),
    last_success_at: iso(row.last_success_at),
    previous_secret_expires_at: iso(row.previous_secret_expires_at),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

/** Duplicates removed; "*" alone when it is there, since it covers the rest. */
const normaliseEvents = (events: string[]) => (events.includes('*') ? ['*'] : [...new Set(events)]);

export interface EndpointInput {
  url: string;
  events: string[];
  description?: string | undefined;
  enabled?: boolean | undefined;
}

/** Creates an endpoint; its secret is in this answer and nowhere else. */
export async function createEndpoint(ctx: WebhookContext, audit: AuditContext, input: EndpointInput): Promise<EndpointView & { secret: string }> {
  const url = await checkEndpointUrl(input.url, ctx.allowPrivate);
  const secret = newSecret();
  return ctx.db.transaction().execute(async (trx) => {
    const row = await q.insertEndpoint(trx, {
      url,
      description: input.description ?? '',
      events: normaliseEvents(input.events),
      enabled: input.enabled ?? true,
      secret,
    });
    const view = endpointView(row);
    await recordAudit(trx, audit, { action: 'webhook.create', target: auditTarget.webhook(row.id), after: view });
    return { ...view, secret };
  });
}

export async function getEndpoint(db: Database, id: number): Promise<EndpointView> {
  const row = await q.findEndpoint(db, id);
  if (!row) throw notFound('Webhook endpoint');
  return endpointView(row);
}

export async function endpointPage(db: Database, page: { limit: number; cursor?: string | undefined }) {
  const [count, result] = await Promise.all([
    q.countEndpoints(db),
    keysetPage({ ...page, order: 'asc' }, (row: q.EndpointRow) => row.id, (slice) => q.listEndpoints(db, slice)),
  ]);
  return { count, ...result, results: result.results.map(endpointView) };
}

export async function changeEndpoint(ctx: WebhookContext, audit: AuditContext, id: number, changes: Partial<EndpointInput>): Promise<EndpointView> {
  const url = changes.url === undefined ? undefined : await checkEndpointUrl(changes.url, ctx.allowPrivate);
  return ctx.db.transaction().execute(async (trx) => {
    const before = await q.findEndpoint(trx, id, { lock: true });
    if (!before) throw notFound('Webhook endpoint');
    const row = await q.updateEndpoint(
      trx,
      id,
      {
        ...(url !== undefined ? { url } : {}),
        ...(changes.description !== undefined ? { description: changes.description } : {}),
        ...(changes.events !== undefined ? { events: normaliseEvents(changes.events) } : {}),
        ...(changes.enabled !== undefined ? { enabled: changes.enabled } : {}),
      },
      ctx.clock.now(),
    );
    if (!row) throw notFound('Webhook endpoint');
    const view = endpointView(row);
    await recordAudit(trx, audit, { action: 'webhook.update', target: auditTarget.webhook(id), before: endpointView(before), after: view });
    return view;
  });
}

export async function removeEndpoint(ctx: WebhookContext, audit: AuditContext, id: number): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const before = await q.findEndpoint(trx, id, { lock: true });
    if (!before || !(await q.deleteEndpoint(trx, id))) throw notFound('Webhook endpoint');
    await recordAudit(trx, audit, { action: 'webhook.delete', target: auditTarget.webhook(id), before: endpointView(before) });
  });
}

/** A new secret, shown once; the old one keeps signing alongside it for 24 hours. */
export async function rotateEndpointSecret(ctx: WebhookContext, audit: AuditContext, id: number): Promise<EndpointView & { secret: string }> {
  const secret = newSecret();
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const row = await q.rotateSecret(trx, id, secret, now, new Date(now.getTime() + ROTATION_GRACE_MS));
    if (!row) throw notFound('Webhook endpoint');
    const view = endpointView(row);
    // The secrets themselves never reach the trail: only when the old one stops signing.
    await recordAudit(trx, audit, { action: 'webhook.rotate_secret', target: auditTarget.webhook(id), after: view });
    return { ...view, secret };
  });
}

function deliveryView(row: q.DeliveryRow, attempts: Awaited<ReturnType<typeof q.attemptsOf>>): DeliveryView {
  return {
    id: row.id,
    event_id: row.event_id,
    event_type: row.event_type,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    delivered_at: iso(row.delivered_at),
    created_at: row.created_at.toISOString(),
    attempt_log: attempts
      .filter((a) => a.delivery_id === row.id)
      .map((a) => ({
        attempted_at: a.attempted_at.toISOString(),
        http_status: a.http_status,
        error: a.error,
        duration_ms: a.duration_ms,
        response_body: a.response_body,
        success: a.success,
      })),
  };
}

/** An endpoint's deliveries, newest first, each with its attempt log. */
export async function deliveryPage(
  db: Database,
  endpointId: number,
  page: { limit: number; cursor?: string | undefined; status?: DeliveryStatus | undefined },
) {
  await getEndpoint(db, endpointId);
  const filter = { endpointId, status: page.status };
  const [count, result] = await Promise.all([
    q.countDeliveries(db, filter),
    keysetPage({ limit: page.limit, cursor: page.cursor, order: 'desc' }, (row: q.DeliveryRow) => row.id, (slice) => q.listDeliveries(db, filter, slice)),
  ]);
  const attempts = await q.attemptsOf(db, result.results.map((r) => r.id));
  return { count, ...result, results: result.results.map((r) => deliveryView(r, attempts)) };
}

/** Sends a delivery's event again, with the same event id and body, as soon as a sender is free. */
export async function redeliver(ctx: WebhookContext, audit: AuditContext, endpointId: number, deliveryId: number): Promise<DeliveryView> {
  const row = await ctx.db.transaction().execute(async (trx) => {
    const endpoint = await q.findEndpoint(trx, endpointId);
    const delivery = endpoint && (await q.findDelivery(trx, endpointId, deliveryId));
    if (!endpoint || !delivery) throw notFound('Webhook delivery');
    if (!endpoint.enabled) throw new DomainError('webhook_endpoint_disabled', 'The endpoint is disabled; enable it first');
    const requeued = await q.requeueDelivery(trx, endpointId, deliveryId, ctx.clock.now());
    if (!requeued) throw new DomainError('webhook_delivery_in_progress', 'This delivery is being sent right now; try again shortly');
    await recordAudit(trx, audit, {
      action: 'webhook.redeliver',
      target: auditTarget.webhook(endpointId),
      after: { delivery_id: deliveryId, event_id: requeued.event_id, event_type: requeued.event_type },
    });
    return requeued;
  });
  return deliveryView(row, await q.attemptsOf(ctx.db, [row.id]));
}

export interface RecordSettings {
  retryBaseMs: number;
  maxAttempts: number;
  disableAfterHours: number;
}

/** delivered, retrying, failed (attempts used up), or lost (another sender or a redelivery took it meanwhile). */
export type AttemptOutcome = 'delivered' | 'retrying' | 'failed' | 'lost';

/**
 * Writes one attempt: the log row, the delivery's new state (compare-and-set on the lease) and the
 * endpoint's health, disabling it with a `webhook.endpoint_disabled` event in the same transaction
 * when it has failed without a success for the whole window. Every outcome passes through here.
 */
export async function recordAttempt(
  db: Database,
  delivery: q.ClaimedDelivery,
  owner: string,
  result: AttemptResult,
  at: Date,
  settings: RecordSettings,
): Promise<{ outcome: AttemptOutcome; disabled: boolean }> {
  const success = isSuccess(result);
  return db.transaction().execute(async (trx: Transaction<DB>) => {
    await q.insertAttempt(trx, {
      delivery_id: delivery.id,
      attempted_at: at,
      http_status: result.httpStatus,
      error: result.error,
      duration_ms: result.durationMs,
      response_body: result.responseBody,
      success,
    });
    const now = new Date(at.getTime() + result.durationMs);
    if (success) {
      await q.markEndpointSucceeded(trx, delivery.endpoint_id, now);
      const settled = await q.settleDelivery(trx, delivery.id, owner, { status: 'delivered', deliveredAt: now });
      return { outcome: settled ? 'delivered' : 'lost', disabled: false };
    }
    const last = delivery.attempts >= settings.maxAttempts;
    const settled = await q.settleDelivery(
      trx,
      delivery.id,
      owner,
      last ? { status: 'failed' } : { status: 'pending', nextAttemptAt: new Date(now.getTime() + retryDelayMs(delivery.attempts, settings.retryBaseMs)) },
    );
    const reason = `no successful delivery for ${settings.disableAfterHours} hours`;
    const disabled = await q.markEndpointFailed(trx, delivery.endpoint_id, now, new Date(now.getTime() - settings.disableAfterHours * 3_600_000), reason);
    if (disabled) {
      await emit(trx, {
        type: 'webhook.endpoint_disabled',
        userId: null,
        subject: String(disabled.id),
        data: {
          endpoint_id: disabled.id,
          url: disabled.url,
          reason,
          failing_since: iso(disabled.failing_since),
          last_success_at: iso(disabled.last_success_at),
        },
      });
    }
    return { outcome: settled ? (last ? 'failed' : 'retrying') : 'lost', disabled: disabled !== undefined };
  });
}
