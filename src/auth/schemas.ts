import { Type } from 'typebox';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, USERNAME_PATTERN } from './service.js';
import { Nullable } from '../http/schemas.js';

export const Username = Type.String({
  pattern: USERNAME_PATTERN,
  errorMessage: 'must be 3-150 letters, digits or _ . @ + -',
});
export const NewPassword = Type.String({
  minLength: PASSWORD_MIN_LENGTH,
  maxLength: PASSWORD_MAX_LENGTH,
  errorMessage: `must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`,
});
export const Email = Type.String({ format: 'email', maxLength: 254, errorMessage: 'must be a valid email address' });

export const RegisterBody = Type.Object(
  { username: Username, password: NewPassword, email: Type.Optional(Type.Union([Email, Type.Null()])) },
  { additionalProperties: false },
);

export const ProfilePatch = Type.Object({ email: Type.Union([Email, Type.Null()]) }, { additionalProperties: false });

// The new password's rules are checked by the service, so a short one is `weak_password` as anywhere else.
export const PasswordChange = Type.Object(
  {
    current_password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
    new_password: Type.String({ maxLength: 4 * PASSWORD_MAX_LENGTH, description: `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters` }),
  },
  { additionalProperties: false },
);

export const PasswordChanged = Type.Null({ description: 'Password changed; every other session of the user ended' });

export const User = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  email: Nullable(Type.String()),
  is_admin: Type.Boolean(),
  date_joined: Type.String({ format: 'date-time' }),
});

export const RegisteredUser = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  email: Nullable(Type.String()),
});

export const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 150 }), password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }) },
  { additionalProperties: false },
);

export const TokenPair = Type.Object({
  access: Type.String(),
  refresh: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
});

export const RefreshBody = Type.Object({ refresh: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export const Message = Type.Object({ message: Type.String() });

export const BrowserSession = Type.Object({
  access_token: Type.String({ description: 'Keep in memory only; the refresh token is in an httpOnly cookie' }),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
  csrf_token: Type.String({ description: 'Send as X-CSRF-Token to /auth/browser/refresh/ and /auth/browser/logout/ (also in the offers_csrf cookie)' }),
});

export const CsrfHeaders = Type.Object({ 'x-csrf-token': Type.Optional(Type.String({ description: 'The session\'s csrf_token' })) });

export const LoggedOut = Type.Null({ description: 'Logged out; both cookies cleared' });
