// Reading the feed, marking it read, and the email settings.
import type { Database } from '../db/connect.js';
import { invalid } from '../domain/errors.js';
import { keysetPage } from '../http/pagination.js';
import { EMAIL_KINDS, type EmailSettings, isEmailKind, type NotificationView } from './domain.js';
import * as q from './queries.js';

function notificationView(row: q.NotificationRow): NotificationView {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    body: row.body,
    data: row.data,
    event_id: row.event_id,
    read: row.read_at !== null,
    read_at: row.read_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
  };
}

/** Newest first, paged through cursors like every other list, with the number still unread. */
export async function notificationPage(
  db: Database,
  userId: number,
  page: { limit: number; cursor?: string | undefined; unread?: boolean | undefined },
) {
  const unreadOnly = page.unread === true;
  const [count, unreadCount, result] = await Promise.all([
    q.countNotifications(db, userId, unreadOnly),
    q.countNotifications(db, userId, true),
    keysetPage({ ...page, order: 'desc' }, (n: q.NotificationRow) => n.id, (slice) => q.listNotifications(db, userId, unreadOnly, slice)),
  ]);
  return { count, unread_count: unreadCount, ...result, results: result.results.map(notificationView) };
}

export async function markNotificationsRead(db: Database, userId: number, request: { ids?: number[] | undefined; all?: boolean | undefined }) {
  if ((request.ids === undefined) === (request.all !== true)) {
    throw invalid('validation_error', 'send either {"ids": [...]} or {"all": true}');
  }
  const marked = await q.markRead(db, userId, request.all === true ? 'all' : [...new Set(request.ids)]);
  return { marked, unread_count: await q.countNotifications(db, userId, true) };
}

export async function emailSettings(db: Database, userId: number): Promise<{ email: EmailSettings }> {
  const email = Object.fromEntries(EMAIL_KINDS.map((k) => [k, true])) as EmailSettings;
  for (const row of await q.emailSettingRows(db, userId)) if (isEmailKind(row.kind)) email[row.kind] = row.email;
  return { email };
}

export async function changeEmailSettings(db: Database, userId: number, changes: Partial<EmailSettings>) {
  await q.saveEmailSettings(
    db,
    userId,
    Object.entries(changes).map(([kind, email]) => ({ kind, email: email === true })),
  );
  return emailSettings(db, userId);
}
