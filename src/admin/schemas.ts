import { Type } from 'typebox';
import { TransactionFilters, TransactionStatusEnum } from '../account/schemas.js';
import { Email, NewPassword, User, Username } from '../auth/schemas.js';
import { Money, MoneyInput, Nullable, NullableTimestamp, PageQuery, Timestamp } from '../http/schemas.js';

export const AdminUser = Type.Object({ ...User.properties, balance: Money });

export const NewUserBody = Type.Object(
  {
    username: Username,
    password: NewPassword,
    email: Type.Optional(Type.Union([Email, Type.Null()])),
    is_admin: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const CreditBody = Type.Object(
  { amount: MoneyInput, reason: Type.String({ minLength: 1, maxLength: 500 }) },
  { additionalProperties: false },
);

export const CreditResult = Type.Object({ transaction_id: Type.String({ format: 'uuid' }), balance: Money });

export const UserListQuery = Type.Object(PageQuery, { additionalProperties: false });

export const AdminTransactionQuery = Type.Object(
  { ...PageQuery, ...TransactionFilters, user: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })) },
  { additionalProperties: false },
);

export const AdminActivationQuery = Type.Object(
  {
    ...PageQuery,
    status: Type.Optional(TransactionStatusEnum),
    needs_review: Type.Optional(Type.Boolean({ description: 'true: refunded at the deadline without a definite partner answer; check them with the partner' })),
  },
  { additionalProperties: false },
);

export const AdminActivation = Type.Object({
  transaction_id: Type.String({ format: 'uuid' }),
  user: Type.Object({ id: Type.Integer(), username: Type.String() }),
  offer: Nullable(Type.Object({ id: Type.Integer(), name: Type.String() })),
  amount: Money,
  status: TransactionStatusEnum,
  attempts: Type.Integer({ description: 'Partner calls made so far' }),
  reference: Nullable(Type.String()),
  error_code: Nullable(Type.String()),
  last_error: Nullable(Type.String({ description: 'The latest partner problem, also while retries go on' })),
  needs_review: Type.Boolean(),
  next_attempt_at: Nullable(Timestamp, { description: 'When an unfinished activation is next tried' }),
  created_at: Timestamp,
  updated_at: Timestamp,
  completed_at: NullableTimestamp,
});
