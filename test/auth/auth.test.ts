// Registration, login and tokens on each backend, sharing one app per backend (every test makes its own users).
import { describe } from 'vitest';
import { backends } from '../helpers/backends.js';
import { sharedApp } from '../helpers/checks.js';
import { loginTests, loginThrottleTests } from './login.cases.js';
import { registrationTests } from './register.cases.js';
import { tokenTests } from './tokens.cases.js';

describe.each(backends)('auth on %s', (backend) => {
  const app = sharedApp(backend);
  registrationTests(app);
  loginTests(app);
  tokenTests(app);
});

loginThrottleTests();
