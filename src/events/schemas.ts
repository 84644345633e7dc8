import { Type } from 'typebox';
import { Nullable, PageQuery, StringEnum, Timestamp } from '../http/schemas.js';
import { EVENT_TYPES } from './domain.js';

export const EventTypeEnum = StringEnum(EVENT_TYPES);

export const EventView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  seq: Type.Integer({ description: 'Increases with every event written' }),
  type: Type.String(),
  user_id: Nullable(Type.Integer()),
  subject: Nullable(Type.String({ description: 'The transaction or subscription the event is about' })),
  data: Type.Record(Type.String(), Type.Unknown()),
  created_at: Timestamp,
});

export const EventListQuery = Type.Object({ ...PageQuery, type: Type.Optional(EventTypeEnum) }, { additionalProperties: false });

export const AdminEventListQuery = Type.Object(
  { ...PageQuery, type: Type.Optional(EventTypeEnum), user: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })) },
  { additionalProperties: false },
);
