// The audit trail's vocabulary: who did what to which thing, from where. Every admin action (HTTP
// or CLI) writes one entry in the transaction of the change, so the trail holds a row exactly when
// the change was committed.

/** What admins do. */
export const AUDIT_ACTIONS = [
  'user.create',
  'user.disable',
  'user.enable',
  'balance.credit',
  'offer.create',
  'offer.update',
  'activation.redrive',
  'activation.resolve',
  'webhook.create',
  'webhook.update',
  'webhook.delete',
  'webhook.rotate_secret',
  'webhook.redeliver',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who acts and from where: built at the edge (an HTTP request, a CLI run), handed to the use case. */
export interface AuditContext {
  /** The admin's username, or `cli:<os user>` for the command line. */
  actor: string;
  /** The admin's user id; null for the command line. */
  actorId: number | null;
  requestId: string | null;
  clientAddress: string | null;
}

export interface AuditEntry {
  action: AuditAction;
  /** `<kind>:<id>`, as made by `auditTarget`. */
  target: string;
  /** The state before and after, as JSON; null where there is none (a creation has no before). */
  before?: unknown;
  after?: unknown;
}

export const auditTarget = {
  user: (id: number) => `user:${id}`,
  offer: (id: number) => `offer:${id}`,
  activation: (id: string) => `activation:${id}`,
  webhook: (id: string | number) => `webhook:${id}`,
};

/** An audit row as the API shows it. */
export interface AuditView {
  id: number;
  actor: string;
  actor_id: number | null;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
  request_id: string | null;
  client_address: string | null;
  created_at: string;
}
