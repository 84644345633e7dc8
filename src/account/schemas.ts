import { Type } from 'typebox';
import { Money, NullableTimestamp, PageQuery, Timestamp } from '../http/schemas.js';
import { Offer } from '../offers/schemas.js';

export const TransactionTypeEnum = Type.Union([Type.Literal('ACTIVATION'), Type.Literal('REFUND'), Type.Literal('CREDIT')]);
export const TransactionStatusEnum = Type.Union([
  Type.Literal('PENDING'),
  Type.Literal('PROCESSING'),
  Type.Literal('SUCCESS'),
  Type.Literal('FAILED'),
]);

export const ActiveOffer = Type.Object({
  offer: Offer,
  activated_at: Timestamp,
  expires_at: Timestamp,
  transaction_id: Type.String({ format: 'uuid' }),
});

export const AccountView = Type.Object({
  username: Type.String(),
  balance: Money,
  currency: Type.String(),
  active_offers: Type.Array(ActiveOffer),
});

export const Balance = Type.Object({ balance: Money, currency: Type.String() });

export const TransactionView = Type.Object({
  transaction_id: Type.String({ format: 'uuid' }),
  type: TransactionTypeEnum,
  status: TransactionStatusEnum,
  amount: Money,
  offer: Type.Union([Offer, Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  reference: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  related_transaction_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
  completed_at: NullableTimestamp,
});

export const TransactionFilters = {
  status: Type.Optional(TransactionStatusEnum),
  type: Type.Optional(TransactionTypeEnum),
};

export const TransactionListQuery = Type.Object({ ...PageQuery, ...TransactionFilters }, { additionalProperties: false });

export const SubscriptionListQuery = Type.Object(PageQuery, { additionalProperties: false });

export const TransactionParams = Type.Object({ transaction_id: Type.String({ maxLength: 100 }) });
