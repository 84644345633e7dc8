// Error shape and HTTP hygiene, probes, docs and headers on each backend, sharing one app per backend.
import { describe } from 'vitest';
import { backends } from '../helpers/backends.js';
import { sharedApp } from '../helpers/checks.js';
import { errorTests } from './errors.cases.js';
import { serviceSurfaceTests } from './service.cases.js';

describe.each(backends)('http on %s', (backend) => {
  const app = sharedApp(backend);
  errorTests(app);
  serviceSurfaceTests(app);
});
