// The webhooks' consumer of the outbox: each event becomes one delivery per enabled endpoint that
// subscribes to its type, with the body fixed once so every attempt and redelivery sends the same.
import type { Clock } from '../clock.js';
import type { Database } from '../db/connect.js';
import type { EventHandler } from '../events/consumer.js';
import { subscribes } from './domain.js';
import { insertDeliveries, enabledEndpoints, type NewDelivery } from './queries.js';

export const WEBHOOK_CONSUMER = 'webhooks';

export function fanOutHandler(db: Database, clock: Clock): EventHandler {
  return async (events) => {
    const endpoints = await enabledEndpoints(db);
    if (endpoints.length === 0) return;
    const rows: NewDelivery[] = [];
    for (const event of events) {
      const body = JSON.stringify({ id: event.id, type: event.type, created_at: event.created_at.toISOString(), data: event.data });
      for (const endpoint of endpoints) {
        // An endpoint hears of what happens after it was registered, not of the retained past.
        if (event.created_at < endpoint.created_at || !subscribes(endpoint.events, event.type)) continue;
        rows.push({ endpoint_id: endpoint.id, event_id: event.id, event_type: event.type, body, next_attempt_at: clock.now() });
      }
    }
    await insertDeliveries(db, rows);
  };
}
