// The web app's client is typed from the service's OpenAPI document; this fails when a route's
// schema changed and the committed types were not regenerated.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_TYPES_FILE, renderApiTypes } from '../../scripts/generate-api-types.js';

describe('web/src/api/schema.d.ts', () => {
  it('matches the OpenAPI document the service serves', async () => {
    const expected = await renderApiTypes();
    const committed = readFileSync(API_TYPES_FILE, 'utf8');
    expect(committed === expected, 'web/src/api/schema.d.ts is out of date: run `npm run api:types` and commit it').toBe(true);
  }, 60_000);
});
