// Writing and reading the audit trail. recordAudit is called by any use case that holds the
// transaction of an admin's change, so the row commits or rolls back with the change.
import type { Transaction } from 'kysely';
import type { Database } from '../db/connect.js';
import type { DB } from '../db/types.js';
import { keysetPage } from '../http/pagination.js';
import type { AuditContext, AuditEntry, AuditView } from './domain.js';
import * as q from './queries.js';

const json = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));

/** Writes one audit row in `trx`: call it in the transaction that makes the change. */
export async function recordAudit(trx: Transaction<DB>, context: AuditContext, entry: AuditEntry): Promise<void> {
  await q.insertAudit(trx, {
    actor: context.actor,
    actor_id: context.actorId,
    action: entry.action,
    target: entry.target,
    before: json(entry.before),
    after: json(entry.after),
    request_id: context.requestId,
    client_address: context.clientAddress,
  });
}

/** `recordAudit` when there is someone to record: use cases shared with non-admin callers take the context as optional. */
export async function recordAuditIf(trx: Transaction<DB>, context: AuditContext | undefined, entry: AuditEntry): Promise<void> {
  if (context) await recordAudit(trx, context, entry);
}

function auditView(row: q.AuditListRow): AuditView {
  return {
    id: row.id,
    actor: row.actor,
    actor_id: row.actor_id,
    action: row.action,
    target: row.target,
    before: row.before ?? null,
    after: row.after ?? null,
    request_id: row.request_id,
    client_address: row.client_address,
    created_at: row.created_at.toISOString(),
  };
}

export async function auditPage(db: Database, filter: q.AuditFilter, page: { limit: number; cursor?: string | undefined }) {
  const [count, result] = await Promise.all([
    q.countAudit(db, filter),
    keysetPage({ ...page, order: 'desc' }, (row: q.AuditListRow) => row.id, (slice) => q.listAudit(db, filter, slice)),
  ]);
  return { count, ...result, results: result.results.map(auditView) };
}
