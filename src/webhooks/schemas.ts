import { Type } from 'typebox';
import { Nullable, NullableTimestamp, PageQuery, StringEnum, Timestamp } from '../http/schemas.js';
import { DELIVERY_STATUSES, WEBHOOK_EVENT_CHOICES } from './domain.js';

const Url = Type.String({ minLength: 1, maxLength: 2000, description: 'https:// (http:// only with WEBHOOK_ALLOW_PRIVATE=true); public addresses only' });
const Events = Type.Array(StringEnum(WEBHOOK_EVENT_CHOICES), {
  minItems: 1,
  maxItems: 50,
  description: 'Event types to send, or ["*"] for all',
});
const Description = Type.String({ maxLength: 500 });

export const NewEndpointBody = Type.Object(
  { url: Url, events: Events, description: Type.Optional(Description), enabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

export const EndpointPatchBody = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(Events),
    description: Type.Optional(Description),
    enabled: Type.Optional(Type.Boolean({ description: 'true also clears an automatic disabling and its failure window' })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const EndpointView = Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  description: Type.String(),
  events: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  disabled_reason: Nullable(Type.String(), { description: 'Why the service disabled it, when it did' }),
  failing_since: Nullable(Timestamp, { description: 'The first failed attempt since the last success' }),
  last_success_at: NullableTimestamp,
  previous_secret_expires_at: Nullable(Timestamp, { description: 'Until then the secret before the last rotation signs too' }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const EndpointWithSecret = Type.Object({
  ...EndpointView.properties,
  secret: Type.String({ description: 'Shown only in this answer: keep it to verify Offers-Signature' }),
});

export const EndpointListQuery = Type.Object(PageQuery, { additionalProperties: false });

export const EndpointParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });

export const DeliveryParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: 2147483647 }),
  deliveryId: Type.Integer({ minimum: 1, maximum: 2147483647 }),
});

const DeliveryStatusEnum = StringEnum(DELIVERY_STATUSES);

export const DeliveryListQuery = Type.Object({ ...PageQuery, status: Type.Optional(DeliveryStatusEnum) }, { additionalProperties: false });

export const AttemptView = Type.Object({
  attempted_at: Timestamp,
  http_status: Nullable(Type.Integer(), { description: 'The answer\'s status; null when there was none' }),
  error: Nullable(Type.String(), { description: 'Network error, timeout or refused address' }),
  duration_ms: Type.Integer(),
  response_body: Nullable(Type.String(), { description: 'The first KiB of the answer' }),
  success: Type.Boolean(),
});

export const DeliveryView = Type.Object({
  id: Type.Integer(),
  event_id: Type.String({ format: 'uuid', description: 'Also the Offers-Event-Id header: the same on every attempt and redelivery' }),
  event_type: Type.String(),
  status: DeliveryStatusEnum,
  attempts: Type.Integer({ description: 'Attempts since the delivery was created or last redelivered' }),
  next_attempt_at: Nullable(Timestamp, { description: 'When a pending delivery is next tried' }),
  delivered_at: NullableTimestamp,
  created_at: Timestamp,
  attempt_log: Type.Array(AttemptView),
});
