// PostgreSQL refuses U+0000 in text: every string field of every operation the API documents must
// refuse it at the edge with a 400 naming the field, never reach the database as a 500.
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, newOffer, newUser, uniqueName, type TestUser } from '../helpers/api.js';
import { backends, type TestApp } from '../helpers/backends.js';
import { expectError, sharedApp } from '../helpers/checks.js';

const NUL = 'a\u0000b';

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  example?: unknown;
}
interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  schema: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: { 'application/json': { schema: Schema } } };
}

const isString = (schema: Schema) => schema.type === 'string' || (Array.isArray(schema.type) && schema.type.includes('string'));

interface Case {
  label: string;
  field: string;
  method: string;
  url: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body?: Record<string, unknown>;
}

describe.each(backends)('NUL characters on %s', (backend) => {
  const app = sharedApp(backend);
  let t: TestApp;
  let user: TestUser;
  let offerId: number;
  let cases: Case[];

  /** A value the field accepts, so that the NUL is the only thing wrong with a request. */
  const validValue = (name: string, schema: Schema): unknown => {
    const known: Record<string, unknown> = {
      username: uniqueName(),
      password: 'correct horse battery',
      refresh: 'not-a-real-refresh-token',
      reason: 'goodwill',
      name: uniqueName('offer'),
      duration_days: 30,
      offer_id: offerId,
    };
    if (name in known) return known[name];
    if (schema.example !== undefined) return schema.example;
    return schema.type === 'integer' ? 1 : schema.type === 'boolean' ? false : 'text';
  };

  beforeAll(async () => {
    t = app();
    user = await newUser(t.app);
    offerId = (await newOffer(t.app)).id;
    const admin = bearer(await adminToken(t.app));
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, Operation>> };

    cases = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const url = path.replace('{id}', String(path.includes('/users/') ? user.id : offerId));
        const base = { method: method.toUpperCase(), url, query: {}, headers: admin };
        const schema = operation.requestBody?.content['application/json'].schema;
        const validBody = () =>
          schema && Object.fromEntries((schema.required ?? []).map((name) => [name, validValue(name, schema.properties![name]!)]));
        for (const parameter of operation.parameters ?? []) {
          if (!isString(parameter.schema)) continue;
          const label = `${parameter.in} ${parameter.name} of ${method.toUpperCase()} ${path}`;
          const c: Case = { ...base, label, field: parameter.name, body: validBody() };
          if (parameter.in === 'path') c.url = path.replace(`{${parameter.name}}`, encodeURIComponent(NUL));
          if (parameter.in === 'query') c.query = { [parameter.name]: NUL };
          if (parameter.in === 'header') c.headers = { ...admin, [parameter.name]: NUL };
          cases.push(c);
        }
        for (const [name, property] of Object.entries(schema?.properties ?? {})) {
          if (!isString(property)) continue;
          cases.push({ ...base, label: `body ${name} of ${method.toUpperCase()} ${path}`, field: name, body: { ...validBody(), [name]: NUL } });
        }
      }
    }
  });

  it('sweeps the string fields of every documented operation, the unauthenticated login among them', () => {
    const labels = cases.map((c) => c.label);
    expect(labels).toEqual(
      expect.arrayContaining([
        'body username of POST /api/v1/auth/login/',
        'body username of POST /api/v1/auth/register/',
        'body reason of POST /api/v1/admin/users/{id}/credit/',
        'body name of POST /api/v1/admin/offers/',
        'body description of PATCH /api/v1/admin/offers/{id}/',
        'query cursor of GET /api/v1/offers/',
        'path transaction_id of GET /api/v1/account/transactions/{transaction_id}/',
        'header idempotency-key of POST /api/v1/activation/',
      ]),
    );
  });

  it('answers a NUL in any string field with a 400 validation_error naming the field', async () => {
    const failures: string[] = [];
    for (const c of cases) {
      const res = await t.app.inject({ method: c.method as 'GET', url: c.url, query: c.query, headers: c.headers, ...(c.body ? { payload: c.body } : {}) });
      const details = res.statusCode === 400 ? ((res.json() as { details?: { field: string; message: string }[] }).details ?? []) : [];
      if (!details.some((d) => d.field === c.field && /NUL/.test(d.message))) failures.push(`${c.label} → ${res.statusCode} ${res.body}`);
      else expectError(res, 400, 'validation_error');
    }
    expect(failures).toEqual([]);
  });

  it('still accepts the same requests without the NUL', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login/', payload: { username: user.username, password: user.password } });
    expect(res.statusCode).toBe(200);
  });
});
