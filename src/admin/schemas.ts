import { Type } from 'typebox';
import { SubscriptionView, TransactionFilters, TransactionStatusEnum } from '../account/schemas.js';
import { Email, NewPassword, User, Username } from '../auth/schemas.js';
import { Money, MoneyInput, Nullable, NullableTimestamp, PageQuery, StringEnum, Timestamp } from '../http/schemas.js';

export const AdminUser = Type.Object({
  ...User.properties,
  balance: Money,
  disabled: Type.Boolean({ description: 'A disabled user cannot log in and has no live sessions' }),
  disabled_at: NullableTimestamp,
});

/** One user with what support looks at first: balance and the subscriptions that have not ended. */
export const AdminUserDetail = Type.Object({ ...AdminUser.properties, subscriptions: Type.Array(SubscriptionView) });

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

export const UserListQuery = Type.Object(
  {
    ...PageQuery,
    search: Type.Optional(
      Type.String({ minLength: 1, maxLength: 254, description: 'Users whose username or email starts with this, in any case' }),
    ),
  },
  { additionalProperties: false },
);

export const AdminTransactionQuery = Type.Object(
  { ...PageQuery, ...TransactionFilters, user: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })) },
  { additionalProperties: false },
);

export const AdminActivationQuery = Type.Object(
  {
    ...PageQuery,
    status: Type.Optional(TransactionStatusEnum),
    needs_review: Type.Optional(Type.Boolean({ description: 'true: refunded at the deadline without a definite partner answer; check them with the partner' })),
    older_than: Type.Optional(
      Type.String({
        pattern: '^[0-9]{1,7}[smhd]$',
        errorMessage: 'must be a number of seconds, minutes, hours or days, like "15m"',
        description: 'Only activations created longer ago than this: 30s, 15m, 2h, 7d',
      }),
    ),
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
  maybe_delivered: Type.Boolean({ description: 'A partner call may have reached the partner: only a definite answer, the deadline or an admin settles it' }),
  next_attempt_at: Nullable(Timestamp, { description: 'When an unfinished activation is next tried' }),
  created_at: Timestamp,
  updated_at: Timestamp,
  completed_at: NullableTimestamp,
});

export const ActivationParams = Type.Object({ id: Type.String({ maxLength: 100 }) });

/**
 * One object rather than a union of two: Ajv strips unknown properties while it tries each branch
 * of a union, so the second branch would never see its field. The route checks which one is needed.
 */
export const ResolveBody = Type.Object(
  {
    outcome: StringEnum(['SUCCESS', 'FAILED']),
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: "SUCCESS: the partner's reference" })),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'FAILED: why; shown to the buyer with the refund' })),
  },
  { additionalProperties: false, description: "The partner's answer, as an admin found it out" },
);
