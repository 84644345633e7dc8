// Accounts and sessions: creating users, logging in, rotating refresh tokens, logging out.
import { randomUUID } from 'node:crypto';
import { type AuditContext, auditTarget } from '../audit/domain.js';
import { recordAudit, recordAuditIf } from '../audit/service.js';
import type { Database } from '../db/connect.js';
import { isUniqueViolation } from '../db/errors.js';
import { accountDisabled, conflict, DomainError, invalid, notFound, unauthenticated, usernameTaken } from '../domain/errors.js';
import { emit } from '../events/outbox.js';
import { type Metrics, noMetrics } from '../metrics/port.js';
import type { LiveUsers } from './live-users.js';
import type { LoginThrottle } from './login-throttle.js';
import { hashPassword, verifyPassword } from './passwords.js';
import * as q from './queries.js';
import type { SessionRevocations } from './revocations.js';
import { type AccessClaims, type AccessTokens, hashRefreshToken, newRefreshToken } from './tokens.js';

export const USERNAME_PATTERN = '^[A-Za-z0-9_.@+-]{3,150}$';
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

export interface NewUser {
  username: string;
  password: string;
  email?: string | null | undefined;
  isAdmin?: boolean | undefined;
}

export type PublicUser = Awaited<ReturnType<typeof q.findUserById>> & {};

export function userView(user: PublicUser) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    is_admin: user.is_admin,
    date_joined: user.created_at.toISOString(),
  };
}

/** The user as admins see it: with whether (and since when) it is disabled. */
export function adminUserView(user: PublicUser) {
  return { ...userView(user), disabled: user.disabled_at !== null, disabled_at: user.disabled_at?.toISOString() ?? null };
}

/** The rules every new password follows: at registration, from the admin API and CLI, and on a change. */
export function checkNewPassword(password: string): void {
  if (password.length < PASSWORD_MIN_LENGTH) {
    throw invalid('weak_password', `password must be at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (password.length > PASSWORD_MAX_LENGTH) {
    throw invalid('invalid_password', `password must be at most ${PASSWORD_MAX_LENGTH} characters`);
  }
}

/**
 * Shared by registration, the admin API, the CLI and bootstrap, so the rules are the same everywhere.
 * `audit`: who creates the user, when it is an admin's action.
 */
export async function createUser(db: Database, input: NewUser, audit?: AuditContext): Promise<PublicUser> {
  if (!new RegExp(USERNAME_PATTERN).test(input.username)) {
    throw invalid('invalid_username', 'username must be 3-150 letters, digits or _ . @ + -');
  }
  checkNewPassword(input.password);
  const passwordHash = await hashPassword(input.password);
  try {
    return await db.transaction().execute(async (trx) => {
      const user = await q.insertUser(trx, {
        username: input.username,
        email: input.email ?? null,
        passwordHash,
        isAdmin: input.isAdmin ?? false,
      });
      await recordAuditIf(trx, audit, { action: 'user.create', target: auditTarget.user(user.id), after: userView(user) });
      return user;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw usernameTaken();
    throw err;
  }
}

type Admission = AccessClaims | undefined | Promise<AccessClaims | undefined>;

const invalidRefreshToken = () => unauthenticated('invalid_refresh_token', 'Refresh token is invalid, expired or revoked');

export class AuthService {
  constructor(
    private readonly db: Database,
    private readonly tokens: AccessTokens,
    private readonly throttle: LoginThrottle,
    private readonly refreshTtlSeconds: number,
    private readonly revocations: SessionRevocations,
    private readonly users: LiveUsers,
    private readonly metrics: Metrics = noMetrics,
  ) {}

  /**
   * The claims of an access token that is valid, whose session was not ended and whose user still
   * exists; undefined otherwise. A token seen lately is answered from memory without a promise:
   * every request passes here, and each promise hop cost more than both checks together.
   */
  authenticate(token: string): Admission {
    const known = this.tokens.remembered(token);
    if (known) return this.#admit(known);
    return this.tokens.verify(token).then((claims) => claims && this.#admit(claims));
  }

  #admit(claims: AccessClaims): Admission {
    if (this.revocations.isRevoked(claims.sessionId)) return undefined;
    const exists = this.users.exists(claims.userId);
    if (typeof exists === 'boolean') return exists ? claims : undefined;
    return exists.then((yes) => (yes ? claims : undefined));
  }

  async #issue(db: q.Executor, user: { id: number; is_admin: boolean }, familyId: string) {
    const refresh = newRefreshToken();
    await q.insertRefreshToken(db, {
      id: randomUUID(),
      hash: refresh.hash,
      familyId,
      userId: user.id,
      ttlSeconds: this.refreshTtlSeconds,
    });
    return {
      access: await this.tokens.sign({ userId: user.id, isAdmin: user.is_admin, sessionId: familyId }),
      refresh: refresh.token,
      token_type: 'Bearer' as const,
      expires_in: this.tokens.ttlSeconds,
    };
  }

  async login(username: string, password: string, address: string) {
    await this.throttle.begin(username, address);
    const user = await q.findUserByUsername(this.db, username);
    const valid = await verifyPassword(user?.password_hash, password);
    if (!user || !valid) {
      this.metrics.loginFailed();
      await this.throttle.recordFailure(username, address);
      throw unauthenticated('invalid_credentials', 'Invalid username or password');
    }
    await this.throttle.recordSuccess(username, address);
    // The session is written under a share lock on the user, so a disable running now either sees
    // it and revokes it, or commits first and is seen here.
    return this.db.transaction().execute(async (trx) => {
      const current = await q.findUserForShare(trx, user.id);
      // A password change committed since the check ended every other session; this one must not slip in.
      if (!current || current.password_hash !== user.password_hash) throw unauthenticated('invalid_credentials', 'Invalid username or password');
      if (current.disabled_at !== null) throw accountDisabled();
      return this.#issue(trx, current, randomUUID());
    });
  }

  /**
   * Rotates a refresh token. Presenting one that was already rotated revokes its whole family.
   * The family's rows are locked first, so two uses of one token (or a use and a logout) run one
   * after the other: otherwise a reuse could revoke the family just before the winner's new token
   * is written, and that token would survive.
   */
  async refresh(token: string) {
    const hash = hashRefreshToken(token);
    const presented = await q.findRefreshToken(this.db, hash);
    if (!presented) throw invalidRefreshToken();
    const outcome = await this.db.transaction().execute(async (trx) => {
      // The user before the family, in the order logout-all locks them, so the two cannot deadlock.
      const user = await q.findUserForShare(trx, presented.user_id);
      if (!user) return 'invalid' as const;
      if (user.disabled_at !== null) return 'disabled' as const;
      await q.lockFamily(trx, presented.family_id);
      const consumed = await q.consumeRefreshToken(trx, hash);
      if (!consumed) {
        if (!(await q.findRefreshToken(trx, hash))?.used_at) return 'invalid' as const;
        // Committed before answering: the revocation must outlive this request's error.
        await q.revokeFamily(trx, presented.family_id);
        return 'reused' as const;
      }
      return this.#issue(trx, user, consumed.family_id);
    });
    if (outcome === 'reused') {
      await this.revocations.revoked([presented.family_id]);
      throw unauthenticated('refresh_token_reused', 'Refresh token was already used; its session has been revoked');
    }
    if (outcome === 'invalid') throw invalidRefreshToken();
    if (outcome === 'disabled') throw accountDisabled();
    return outcome;
  }

  /** Ends the refresh token's session: its refresh tokens and, on every process, its access tokens. */
  async logout(userId: number, token: string) {
    const known = await q.findRefreshToken(this.db, hashRefreshToken(token));
    if (!known || known.user_id !== userId) throw invalidRefreshToken();
    await this.endSession(known.family_id);
  }

  /**
   * The session (refresh-token family) a refresh token belongs to, rotated or revoked ones included,
   * so a browser's CSRF token can be checked before its cookie is rotated or reuse is detected.
   */
  async sessionOf(token: string): Promise<string | undefined> {
    return (await q.findRefreshToken(this.db, hashRefreshToken(token)))?.family_id;
  }

  /** Ends a session, its refresh and access tokens: the browser's logout, which holds only the cookie, after its CSRF check. */
  async endSession(familyId: string) {
    await this.db.transaction().execute(async (trx) => {
      await q.lockFamily(trx, familyId);
      await q.revokeFamily(trx, familyId);
    });
    await this.revocations.revoked([familyId]);
  }

  /** Ends every session of the user, the one making the request included. */
  async logoutAll(claims: AccessClaims) {
    const sessions = await this.db.transaction().execute(async (trx) => {
      await q.lockUser(trx, claims.userId);
      return q.revokeUserSessions(trx, claims.userId);
    });
    await this.revocations.revoked([...new Set([...sessions, claims.sessionId])]);
  }

  /**
   * Changes the caller's password once they proved they know the current one, and ends every other
   * session of theirs (a thief's among them); the one asking keeps working. Wrong guesses count
   * against the username like failed logins, so a stolen access token cannot be used to brute-force it.
   */
  async changePassword(claims: AccessClaims, current: string, next: string, address: string) {
    const user = await q.findCredentials(this.db, claims.userId);
    if (!user) throw unauthenticated('invalid_token', 'User no longer exists');
    checkNewPassword(next);
    await this.throttle.begin(user.username, address);
    if (!(await verifyPassword(user.password_hash, current))) {
      await this.throttle.recordFailure(user.username, address);
      throw new DomainError('wrong_password', 'The current password is not correct');
    }
    await this.throttle.recordSuccess(user.username, address);
    const passwordHash = await hashPassword(next);
    const sessions = await this.db.transaction().execute(async (trx) => {
      // Exclusively, as logout-all does, so a refresh running now cannot write a token we miss.
      await q.lockUser(trx, claims.userId);
      if (!(await q.updatePasswordHash(trx, claims.userId, passwordHash))) {
        throw unauthenticated('invalid_token', 'User no longer exists');
      }
      return q.revokeUserSessions(trx, claims.userId, claims.sessionId);
    });
    await this.revocations.revoked(sessions);
  }

  /**
   * Disables a user: no logins or refreshes from now on, and every session revoked at once on every
   * process (as logout-all does). Their activations still finish: the worker does not look at it.
   * Disabling one already disabled changes nothing and writes nothing.
   */
  async disableUser(userId: number, audit: AuditContext) {
    if (audit.actorId === userId) throw conflict('cannot_disable_self', 'Admins cannot disable their own account');
    const { user, sessions } = await this.db.transaction().execute(async (trx) => {
      // Exclusively, in the order refresh and login take it, so no session is written behind our back.
      await q.lockUser(trx, userId);
      const before = await q.findUserById(trx, userId);
      if (!before) throw notFound('User');
      const after = await q.setDisabled(trx, userId, true);
      if (!after) return { user: before, sessions: [] };
      const revoked = await q.revokeUserSessions(trx, userId);
      await recordAudit(trx, audit, {
        action: 'user.disable',
        target: auditTarget.user(userId),
        before: adminUserView(before),
        after: { ...adminUserView(after), sessions_revoked: revoked.length },
      });
      await emit(trx, { type: 'user.disabled', userId, subject: String(userId), data: { user_id: userId, disabled_at: after.disabled_at?.toISOString() ?? null } });
      return { user: after, sessions: revoked };
    });
    await this.revocations.revoked(sessions);
    this.users.forget(userId);
    return adminUserView(user);
  }

  /** Lets a disabled user log in again; their old sessions stay revoked. */
  async enableUser(userId: number, audit: AuditContext) {
    const user = await this.db.transaction().execute(async (trx) => {
      await q.lockUser(trx, userId);
      const before = await q.findUserById(trx, userId);
      if (!before) throw notFound('User');
      const after = await q.setDisabled(trx, userId, false);
      if (!after) return before;
      await recordAudit(trx, audit, { action: 'user.enable', target: auditTarget.user(userId), before: adminUserView(before), after: adminUserView(after) });
      await emit(trx, { type: 'user.enabled', userId, subject: String(userId), data: { user_id: userId } });
      return after;
    });
    this.users.forget(userId);
    return adminUserView(user);
  }

  async profile(userId: number) {
    const user = await q.findUserById(this.db, userId);
    if (!user) throw unauthenticated('invalid_token', 'User no longer exists');
    return userView(user);
  }

  /** Sets, changes or (with null) clears the address notifications are emailed to. */
  async changeEmail(userId: number, email: string | null) {
    const user = await q.updateEmail(this.db, userId, email);
    if (!user) throw unauthenticated('invalid_token', 'User no longer exists');
    return userView(user);
  }
}
