import { Type } from 'typebox';
import { ACTIVATION_STATUSES } from '../activation/domain.js';
import { Money, Nullable, NullableTimestamp, PageQuery, StringEnum, Timestamp } from '../http/schemas.js';
import { Offer } from '../offers/schemas.js';

export const TransactionTypeEnum = StringEnum(['ACTIVATION', 'REFUND', 'CREDIT']);
export const TransactionStatusEnum = StringEnum(ACTIVATION_STATUSES);

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
  offer: Nullable(Offer),
  description: Nullable(Type.String()),
  reference: Nullable(Type.String()),
  error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
  related_transaction_id: Nullable(Type.String({ format: 'uuid' })),
  created_at: Timestamp,
  updated_at: Timestamp,
  completed_at: NullableTimestamp,
});

export const TransactionFilters = {
  status: Type.Optional(TransactionStatusEnum),
  type: Type.Optional(TransactionTypeEnum),
};

export const TransactionListQuery = Type.Object({ ...PageQuery, ...TransactionFilters }, { additionalProperties: false });

export const SubscriptionStatusEnum = StringEnum(['ACTIVE', 'EXPIRED']);

/** A subscription in the caller's list: the active offer's fields, its id, lifecycle status and auto-renewal. */
export const SubscriptionView = Type.Object({
  id: Type.Integer(),
  ...ActiveOffer.properties,
  status: SubscriptionStatusEnum,
  auto_renew: Type.Boolean(),
});

export const SubscriptionListQuery = Type.Object(
  {
    ...PageQuery,
    // By the recorded lifecycle status; without it, the subscriptions that have not ended.
    status: Type.Optional(SubscriptionStatusEnum),
  },
  { additionalProperties: false },
);

export const SubscriptionParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });

export const SubscriptionPatch = Type.Object({ auto_renew: Type.Boolean() }, { additionalProperties: false });

export const TransactionParams = Type.Object({ transaction_id: Type.String({ maxLength: 100 }) });
