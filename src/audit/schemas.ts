import { Type } from 'typebox';
import { Nullable, PageQuery, Timestamp } from '../http/schemas.js';

export const AuditListQuery = Type.Object(
  {
    ...PageQuery,
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'An admin\'s username, or cli:<os user>' })),
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'For example balance.credit' })),
    target: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'For example user:12, offer:3, activation:<uuid>' })),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'Rows written at or after this time' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'Rows written before this time' })),
  },
  { additionalProperties: false },
);

export const AuditEntryView = Type.Object({
  id: Type.Integer(),
  actor: Type.String(),
  actor_id: Nullable(Type.Integer()),
  action: Type.String(),
  target: Type.String(),
  before: Type.Unknown({ description: 'The state before the change (JSON), or null' }),
  after: Type.Unknown({ description: 'The state after the change (JSON), or null' }),
  request_id: Nullable(Type.String()),
  client_address: Nullable(Type.String()),
  created_at: Timestamp,
});
