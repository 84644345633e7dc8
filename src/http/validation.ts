// Request validation with Ajv. Query strings, params and headers arrive as text and are coerced
// to their declared types; JSON bodies are not, so `"offer_id": "5"` is rejected, not guessed at.
import { Ajv, type ErrorObject, type Options } from 'ajv';
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
  return ajv;
}

const forText = makeAjv('array');
const forBody = makeAjv(false);

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? forBody : forText).compile(schema) as ReturnType<FastifySchemaCompiler<object>>;

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
    const custom = (error.parentSchema as { errorMessage?: string } | undefined)?.errorMessage;
    return { field: name, message: `${name} ${custom ?? error.message ?? 'is invalid'}` };
  });
  const unique = details.filter((d, i) => details.findIndex((o) => o.message === d.message) === i);
  return { message: unique[0]?.message ?? 'Invalid request', details: unique };
}
