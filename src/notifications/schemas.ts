import { Type } from 'typebox';
import { Nullable, Page, PageQuery, Timestamp } from '../http/schemas.js';
import { EMAIL_KINDS, NOTIFICATION_KINDS } from './domain.js';

export const NotificationView = Type.Object({
  id: Type.Integer(),
  kind: Type.String({ enum: [...NOTIFICATION_KINDS] }),
  title: Type.String(),
  body: Type.String({ description: 'Plain text; paragraphs separated by a blank line' }),
  data: Type.Record(Type.String(), Type.Unknown(), { description: 'The event\'s facts (offer, amounts, dates)' }),
  event_id: Type.String({ format: 'uuid', description: 'The event it was made from (see /account/events/)' }),
  read: Type.Boolean(),
  read_at: Nullable(Timestamp),
  created_at: Timestamp,
});

export const NotificationPage = Type.Object({
  ...Page(NotificationView).properties,
  unread_count: Type.Integer({ description: 'Unread notifications of the caller, whatever the filter' }),
});

export const NotificationListQuery = Type.Object(
  { ...PageQuery, unread: Type.Optional(Type.Boolean({ description: 'Only the unread ones' })) },
  { additionalProperties: false },
);

export const MarkReadBody = Type.Object(
  {
    ids: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 2147483647 }), { minItems: 1, maxItems: 200 })),
    all: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false, description: 'Either ids or all: true' },
);

export const MarkReadResult = Type.Object({
  marked: Type.Integer({ description: 'Notifications that were unread and are read now' }),
  unread_count: Type.Integer(),
});

const emailFlags = Object.fromEntries(EMAIL_KINDS.map((k) => [k, Type.Boolean()]));

export const NotificationSettings = Type.Object({
  email: Type.Object(emailFlags, { description: 'Email on or off per kind; the in-app feed always has everything' }),
});

export const NotificationSettingsPatch = Type.Object(
  {
    email: Type.Object(
      Object.fromEntries(EMAIL_KINDS.map((k) => [k, Type.Optional(Type.Boolean())])),
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
