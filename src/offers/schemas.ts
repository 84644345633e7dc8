import { Type } from 'typebox';
import { Money, MoneyInput, PageQuery } from '../http/schemas.js';

export const Offer = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  description: Type.String(),
  price: Money,
  duration_days: Type.Integer(),
  is_active: Type.Boolean(),
});

export const OfferListQuery = Type.Object(PageQuery, { additionalProperties: false });

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.String({ maxLength: 5000 }),
  price: MoneyInput,
  duration_days: Type.Integer({ minimum: 1, maximum: 3650 }),
  is_active: Type.Boolean(),
};

export const NewOffer = Type.Object(
  {
    name: fields.name,
    description: Type.Optional(fields.description),
    price: fields.price,
    duration_days: fields.duration_days,
    is_active: Type.Optional(fields.is_active),
  },
  { additionalProperties: false },
);

export const OfferPatch = Type.Object(
  {
    name: Type.Optional(fields.name),
    description: Type.Optional(fields.description),
    price: Type.Optional(fields.price),
    duration_days: Type.Optional(fields.duration_days),
    is_active: Type.Optional(fields.is_active),
  },
  { additionalProperties: false, minProperties: 1, errorMessage: 'must change at least one field' },
);
