// The caller's account and the ledger behind it on each backend, sharing one app per backend.
import { describe } from 'vitest';
import { backends } from '../helpers/backends.js';
import { sharedApp } from '../helpers/checks.js';
import { accountTests } from './account.cases.js';
import { ledgerTests } from './ledger.cases.js';

describe.each(backends)('account on %s', (backend) => {
  const app = sharedApp(backend);
  accountTests(app);
  ledgerTests(app);
});
