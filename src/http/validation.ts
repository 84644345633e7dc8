// Request validation with Ajv. Query strings, params and headers arrive as text and are coerced
// to their declared types; JSON bodies are not, so `"offer_id": "5"` is rejected, not guessed at.
// One rule holds for every string of every part: no NUL character (PostgreSQL refuses U+0000 in
// text, so one would otherwise turn into a 500 deep inside a query).
import { _, Ajv, type ErrorObject, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats ships CommonJS with a default export that ESM sees one level down.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

function makeAjv(coerceTypes: Options['coerceTypes']): Ajv {
  const ajv = new Ajv({
    coerceTypes,
    useDefaults: true,
    removeAdditional: true,
    allErrors: true,
    verbose: true,
    keywords: ['errorMessage', 'example'],
  });
  addFormats(ajv);
  ajv.addKeyword({
    keyword: NO_NUL,
    type: 'string',
    schemaType: 'boolean',
    code: (cxt) => cxt.fail(_`${cxt.data}.includes("\u0000")`),
    error: { message: 'must not contain the NUL character (U+0000)' },
  });
  return ajv;
}

const NO_NUL = 'noNul';
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples', 'example']);

const isStringSchema = (type: unknown) => type === 'string' || (Array.isArray(type) && type.includes('string'));

/** A copy of `schema` in which every string schema, however deeply nested, also refuses NUL. */
function refusingNul(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(refusingNul);
  if (schema === null || typeof schema !== 'object') return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) copy[key] = DATA_KEYWORDS.has(key) ? value : refusingNul(value);
  if (isStringSchema(copy.type)) copy[NO_NUL] = true;
  return copy;
}

const forText = makeAjv('array');
const forBody = makeAjv(false);

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? forBody : forText).compile(refusingNul(schema) as object) as ReturnType<FastifySchemaCompiler<object>>;

function field(error: ErrorObject, context: string): string {
  const path = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  return path || (context === 'body' ? 'body' : context);
}

/** Turns Ajv's errors into one readable sentence plus per-field details. */
export function describeValidation(errors: ErrorObject[], context: string) {
  const details = errors.map((error) => {
    if (error.keyword === 'required') {
      const name = String((error.params as { missingProperty: string }).missingProperty);
      return { field: name, message: `${name} is required` };
    }
    const name = field(error, context);
    // A field's own wording describes its format; a NUL breaks a rule every string shares.
    const custom = error.keyword === NO_NUL ? undefined : (error.parentSchema as { errorMessage?: string } | undefined)?.errorMessage;
    return { field: name, message: `${name} ${custom ?? error.message ?? 'is invalid'}` };
  });
  const unique = details.filter((d, i) => details.findIndex((o) => o.message === d.message) === i);
  return { message: unique[0]?.message ?? 'Invalid request', details: unique };
}
