import { Type } from 'typebox';
import { ActiveOffer, TransactionStatusEnum } from '../account/schemas.js';
import { IdempotencyHeaders, Money, Nullable, NullableTimestamp, PageQuery, Timestamp } from '../http/schemas.js';

export const ActivationBody = Type.Object(
  { offer_id: Type.Integer({ minimum: 1, maximum: 2147483647, errorMessage: 'must be a positive integer' }) },
  { additionalProperties: false },
);

export const ActivationHeaders = IdempotencyHeaders;

export const ActivationAccepted = Type.Object({
  transaction_id: Type.String({ format: 'uuid' }),
  status: Type.Literal('PENDING'),
  message: Type.String(),
});

export const ActivationStatus = Type.Object({
  transaction_id: Type.String({ format: 'uuid' }),
  status: TransactionStatusEnum,
  offer_id: Nullable(Type.Integer()),
  amount: Money,
  created_at: Timestamp,
  updated_at: Timestamp,
  completed_at: NullableTimestamp,
  reference: Type.Optional(Type.String()),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
});

export const StatusParams = Type.Object({ transaction_id: Type.String({ maxLength: 100 }) });

export const ExpiringQuery = Type.Object(PageQuery, { additionalProperties: false });
export { ActiveOffer };
