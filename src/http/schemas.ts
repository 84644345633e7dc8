// Schemas shared by every domain: the error body, money, ids and list pages.
import type { FastifyReply } from 'fastify';
import { type Static, type TSchema, Type } from 'typebox';

export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'Human-readable message' }),
    code: Type.String({ description: 'Stable snake_case code' }),
    details: Type.Optional(Type.Array(Type.Unknown())),
  },
  { $id: 'ErrorBody' },
);

/** A positive amount with at most two decimals, as a string: "20.00". */
export const MoneyInput = Type.String({
  // The lookahead turns away zero ("0", "0.00"), which the database's CHECKs would refuse with a 500.
  pattern: '^(?!0(\\.0{1,2})?$)(0|[1-9][0-9]{0,9})(\\.[0-9]{1,2})?$',
  errorMessage: 'must be a positive decimal string with at most 2 decimals, like "20.00"',
  examples: ['20.00'],
});

export const Money = Type.String({ examples: ['20.00'], description: 'Decimal string' });

/**
 * `schema` or null, written as `type: [T, 'null']` rather than an anyOf: the response serialiser
 * runs an Ajv validation per anyOf branch for every value it writes, but tells a type array apart
 * with a typeof check. The OpenAPI document shows it as `nullable: true`.
 */
export const Nullable = <T extends TSchema & { type: string }>(schema: T, options: { description?: string } = {}) =>
  Type.Unsafe<Static<T> | null>({ ...schema, ...options, type: [schema.type, 'null'] });

/** One of a few strings, as a plain `enum` (not an anyOf of literals) for the same reason. */
export const StringEnum = <const V extends readonly string[]>(values: V) => Type.Unsafe<V[number]>({ type: 'string', enum: [...values] });

export const Timestamp = Type.String({ format: 'date-time' });
export const NullableTimestamp = Nullable(Timestamp);

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2147483647 }) });

export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
};

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({
    count: Type.Integer(),
    next: Nullable(Type.String(), { description: 'Cursor of the next page; pass it as ?cursor=' }),
    previous: Nullable(Type.String(), { description: 'Cursor of the previous page' }),
    results: Type.Array(item),
  });

/**
 * Sends JSON text that already has the shape of the route's response schema (written by the
 * database, say) as it is: Fastify serialises no string whose content type is JSON.
 */
export function sendJsonText(reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json as never);
}

/** Standard error responses to declare on routes, so they appear in the OpenAPI document. */
export const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorBody]));

/** The optional Idempotency-Key of every request that moves money. */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$', errorMessage: 'must be 1-255 visible ASCII characters' }),
  ),
});
