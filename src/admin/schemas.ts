import { Type } from 'typebox';
import { TransactionFilters } from '../account/schemas.js';
import { Email, NewPassword, User, Username } from '../auth/schemas.js';
import { Money, MoneyInput, PageQuery } from '../http/schemas.js';

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
