// The in-app feed's consumer of the outbox: each event a person should see becomes one
// notification, rendered once with the same template as its email.
import type { Database } from '../db/connect.js';
import type { EventHandler } from '../events/consumer.js';
import { kindOfEvent } from './domain.js';
import { eventFacts } from './facts.js';
import { insertNotifications } from './queries.js';
import { render, type TemplateContext } from './templates.js';

export const FEED_CONSUMER = 'notifications.feed';

export function feedHandler(db: Database, ctx: TemplateContext): EventHandler {
  return async (events) => {
    const seen = events.filter((e) => e.user_id !== null && kindOfEvent(e.type) !== undefined);
    if (seen.length === 0) return;
    const facts = await eventFacts(db, seen);
    await insertNotifications(
      db,
      seen.map((e) => {
        const kind = kindOfEvent(e.type)!;
        const data = facts.get(e.id)!;
        const { title, text } = render(kind, data, ctx);
        return { user_id: e.user_id!, event_id: e.id, kind, title, body: text, data: JSON.stringify(data), created_at: e.created_at };
      }),
    );
  };
}
