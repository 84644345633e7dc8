// SQL for the audit trail: one insert, and the filtered list newest first.
import type { Transaction } from 'kysely';
import type { Database } from '../db/connect.js';
import type { DB } from '../db/types.js';
import type { KeysetSlice } from '../http/pagination.js';

export interface AuditRow {
  actor: string;
  actor_id: number | null;
  action: string;
  target: string;
  before: string | null;
  after: string | null;
  request_id: string | null;
  client_address: string | null;
}

export async function insertAudit(trx: Transaction<DB>, row: AuditRow): Promise<void> {
  await trx.insertInto('audit_log').values(row).execute();
}

export interface AuditFilter {
  actor?: string | undefined;
  action?: string | undefined;
  target?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

function filtered(db: Database, filter: AuditFilter) {
  return db
    .selectFrom('audit_log')
    .$if(filter.actor !== undefined, (q) => q.where('actor', '=', filter.actor!))
    .$if(filter.action !== undefined, (q) => q.where('action', '=', filter.action!))
    .$if(filter.target !== undefined, (q) => q.where('target', '=', filter.target!))
    .$if(filter.since !== undefined, (q) => q.where('created_at', '>=', filter.since!))
    .$if(filter.until !== undefined, (q) => q.where('created_at', '<', filter.until!));
}

export function listAudit(db: Database, filter: AuditFilter, slice: KeysetSlice) {
  const { after } = slice;
  return filtered(db, filter)
    .selectAll()
    .$if(after !== undefined, (q) => q.where('id', after!.op, after!.key))
    .orderBy('id', slice.order)
    .limit(slice.limit)
    .execute();
}

export type AuditListRow = Awaited<ReturnType<typeof listAudit>>[number];

export async function countAudit(db: Database, filter: AuditFilter): Promise<number> {
  const row = await filtered(db, filter).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
