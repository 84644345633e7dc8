// The email consumer of the outbox: queues one email per event of an email kind, for a person with
// an email address who has not turned that kind off. The email sender (src/email) sends the queue.
import type { Database } from '../db/connect.js';
import type { EventHandler } from '../events/consumer.js';
import { isEmailKind, kindOfEvent } from './domain.js';
import { eventFacts } from './facts.js';
import { render, type TemplateContext } from './templates.js';

export const EMAIL_CONSUMER = 'notifications.email';

/**
 * Events older than this get no email: a consumer that starts late (SMTP_URL set on a running
 * installation) reads the whole retained outbox, and month-old news is no use in an inbox.
 */
const MAX_EVENT_AGE_MS = 24 * 3600 * 1000;

export function emailQueueHandler(db: Database, ctx: TemplateContext, now: () => Date = () => new Date()): EventHandler {
  return async (events) => {
    const oldest = now().getTime() - MAX_EVENT_AGE_MS;
    const candidates = events.filter((e) => {
      const kind = kindOfEvent(e.type);
      return e.user_id !== null && kind !== undefined && isEmailKind(kind) && e.created_at.getTime() >= oldest;
    });
    if (candidates.length === 0) return;
    const userIds = [...new Set(candidates.map((e) => e.user_id!))];
    const [recipients, turnedOff] = await Promise.all([
      db.selectFrom('users').select(['id', 'email']).where('id', 'in', userIds).where('email', 'is not', null).execute(),
      db.selectFrom('notification_settings').select(['user_id', 'kind']).where('user_id', 'in', userIds).where('email', '=', false).execute(),
    ]);
    const emailOf = new Map(recipients.map((r) => [r.id, r.email!]));
    const off = new Set(turnedOff.map((s) => `${s.user_id}:${s.kind}`));
    const wanted = candidates.filter((e) => emailOf.has(e.user_id!) && !off.has(`${e.user_id}:${kindOfEvent(e.type)}`));
    if (wanted.length === 0) return;
    const facts = await eventFacts(db, wanted);
    const rows = wanted.map((e) => {
      const kind = kindOfEvent(e.type)!;
      const message = render(kind, facts.get(e.id)!, ctx);
      return {
        event_id: e.id,
        user_id: e.user_id!,
        kind,
        recipient: emailOf.get(e.user_id!)!,
        subject: message.title,
        text_body: message.text,
        html_body: message.html,
        // The sender compares it with its own clock, so it comes from that clock too.
        next_attempt_at: now(),
      };
    });
    await db.insertInto('email_deliveries').values(rows).onConflict((oc) => oc.column('event_id').doNothing()).execute();
  };
}
