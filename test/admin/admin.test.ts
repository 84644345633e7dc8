// The admin API on each backend, sharing one app per backend (every test makes its own users and offers).
import { describe } from 'vitest';
import { backends } from '../helpers/backends.js';
import { sharedApp } from '../helpers/checks.js';
import { accessTests } from './access.cases.js';
import { adminActivationTests } from './activations.cases.js';
import { adminOfferTests } from './offers.cases.js';
import { adminTransactionTests } from './transactions.cases.js';
import { adminUserToolTests } from './user-tools.cases.js';
import { userAndCreditTests } from './users.cases.js';

describe.each(backends)('admin on %s', (backend) => {
  const app = sharedApp(backend);
  accessTests(app);
  userAndCreditTests(app);
  adminOfferTests(app);
  adminTransactionTests(app);
  adminActivationTests(app);
  adminUserToolTests(app);
});
