import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, bearer, login, newUser, uniqueName } from '../helpers/api.js';
import { type TestApp } from '../helpers/backends.js';
import { expectConsistentPaging, expectError } from '../helpers/checks.js';

const PASSWORD = 'long enough password';

export function userAndCreditTests(app: () => TestApp) {
  describe('users and credits', () => {
    let t: TestApp;
    let admin: Record<string, string>;
    beforeAll(async () => {
      t = app();
      admin = bearer(await adminToken(t.app));
    });

    const createUser = (payload: object) => t.app.inject({ method: 'POST', url: '/api/v1/admin/users/', headers: admin, payload });
    const getUser = (id: number | string) => t.app.inject({ method: 'GET', url: `/api/v1/admin/users/${id}/`, headers: admin });
    const credit = (id: number | string, payload: unknown) =>
      t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${id}/credit/`, headers: admin, payload: payload as object });

    describe('users', () => {
      it('creates a user who can log in, answering 201 with the user and a zero balance', async () => {
        const username = uniqueName();
        const res = await createUser({ username, password: PASSWORD, email: 'someone@example.com' });
        expect(res.statusCode).toBe(201);
        expect(res.json()).toEqual({
          id: expect.any(Number),
          username,
          email: 'someone@example.com',
          is_admin: false,
          date_joined: expect.any(String),
          balance: '0.00',
          disabled: false,
          disabled_at: null,
        });
        const { access } = await login(t.app, username, PASSWORD);
        const profile = await t.app.inject({ method: 'GET', url: '/api/v1/auth/profile/', headers: bearer(access) });
        expect(profile.json()).toMatchObject({ id: res.json().id, is_admin: false });
      });

      it('creates an admin when asked', async () => {
        const username = uniqueName('admin');
        const res = await createUser({ username, password: PASSWORD, is_admin: true });
        expect(res.statusCode).toBe(201);
        expect(res.json().is_admin).toBe(true);
        const { access } = await login(t.app, username, PASSWORD);
        expect((await t.app.inject({ method: 'GET', url: '/api/v1/admin/users/', headers: bearer(access) })).statusCode).toBe(200);
      });

      it('answers 409 for a taken username and 400 for a weak password or an invalid username', async () => {
        const username = uniqueName();
        expect((await createUser({ username, password: PASSWORD })).statusCode).toBe(201);
        expectError(await createUser({ username: username.toUpperCase(), password: PASSWORD }), 409, 'username_taken');
        expectError(await createUser({ username: uniqueName(), password: 'short' }), 400);
        expectError(await createUser({ username: 'no spaces allowed', password: PASSWORD }), 400);
        expectError(await createUser({ username: uniqueName(), password: PASSWORD, is_admin: 'yes' }), 400);
      });

      it('shows one user with their balance', async () => {
        const user = await newUser(t.app);
        await credit(user.id, { amount: '15.25', reason: 'welcome' });
        const res = await getUser(user.id);
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({ id: user.id, username: user.username, is_admin: false, balance: '15.25' });
      });

      it('answers 404 for an unknown user and 400 for a malformed id', async () => {
        expectError(await getUser(2147483647), 404, 'not_found');
        expectError(await getUser('abc'), 400);
        expectError(await getUser(0), 400);
      });

      it('lists every user with balances, paged forward and back', async () => {
        const mine = [await newUser(t.app), await newUser(t.app), await newUser(t.app)];
        const users = await expectConsistentPaging<{ id: number; username: string; balance: string }>(
          t.app,
          '/api/v1/admin/users/',
          admin,
          { limit: 2, key: (u) => u.id },
        );
        for (const user of mine) expect(users).toContainEqual(expect.objectContaining({ id: user.id, username: user.username, balance: '0.00' }));
        expect(users.map((u) => u.username)).toContain('root');
        expect(users.map((u) => u.id)).toEqual([...users.map((u) => u.id)].sort((a, b) => a - b));
      });

      it.each(['limit=0', 'limit=201', 'limit=x', 'cursor=%%%'])('answers 400 for ?%s on the list', async (query) => {
        expectError(await t.app.inject({ method: 'GET', url: `/api/v1/admin/users/?${query}`, headers: admin }), 400);
      });
    });

    describe('credit', () => {
      it('answers 201 with the transaction id and the new balance, and adds up', async () => {
        const user = await newUser(t.app);
        const first = await credit(user.id, { amount: '50.00', reason: 'top-up' });
        expect(first.statusCode).toBe(201);
        expect(first.json()).toEqual({ transaction_id: expect.stringMatching(/^[0-9a-f-]{36}$/), balance: '50.00' });
        const second = await credit(user.id, { amount: '0.05', reason: 'top-up' });
        expect(second.json().balance).toBe('50.05');
        expect(second.json().transaction_id).not.toBe(first.json().transaction_id);
        const third = await credit(user.id, { amount: '7', reason: 'top-up' });
        expect(third.json().balance).toBe('57.05');

        const balance = await t.app.inject({ method: 'GET', url: '/api/v1/account/balance/', headers: bearer(user.access) });
        expect(balance.json().balance).toBe('57.05');
      });

      it('records a successful CREDIT transaction the user can see', async () => {
        const user = await newUser(t.app);
        const { transaction_id: id } = (await credit(user.id, { amount: '12.34', reason: 'goodwill' })).json();
        const res = await t.app.inject({ method: 'GET', url: `/api/v1/account/transactions/${id}/`, headers: bearer(user.access) });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({
          transaction_id: id,
          type: 'CREDIT',
          status: 'SUCCESS',
          amount: '12.34',
          offer: null,
          description: 'goodwill',
          completed_at: expect.any(String),
        });
      });

      it.each([
        ['"0.00"', '0.00'],
        ['"0"', '0'],
        ['"-5"', '-5'],
        ['"abc"', 'abc'],
        ['5 (a number)', 5],
        ['"1.234"', '1.234'],
        ['""', ''],
        ['"1e3"', '1e3'],
        ['" 5"', ' 5'],
        ['null', null],
      ])('answers 400 for the amount %s and changes nothing', async (_label, amount) => {
        const user = await newUser(t.app);
        expectError(await credit(user.id, { amount, reason: 'test' }), 400);
        expect((await getUser(user.id)).json().balance).toBe('0.00');
      });

      it('answers 400 amount_too_large when the balance would pass its 12 integer digits, and keeps the balance', async () => {
        const user = await newUser(t.app);
        const largest = '9999999999.99'; // the largest amount one credit accepts
        for (let i = 0; i < 100; i++) expect((await credit(user.id, { amount: largest, reason: 'big' })).statusCode).toBe(201);
        expect((await getUser(user.id)).json().balance).toBe('999999999999.00');

        expectError(await credit(user.id, { amount: '1.00', reason: 'one too many' }), 400, 'amount_too_large');
        expect((await getUser(user.id)).json().balance).toBe('999999999999.00');
        expect((await credit(user.id, { amount: '0.99', reason: 'fits' })).json().balance).toBe('999999999999.99');
        const history = await t.app.inject({ method: 'GET', url: '/api/v1/account/transactions/?limit=1', headers: bearer(user.access) });
        expect(history.json().count).toBe(101); // the refused credit left no transaction behind
      });

      it('answers 400 without a reason', async () => {
        const user = await newUser(t.app);
        expectError(await credit(user.id, { amount: '5.00' }), 400);
        expectError(await credit(user.id, { amount: '5.00', reason: '' }), 400);
      });

      it('answers 404 for an unknown user and 400 for a malformed id', async () => {
        expectError(await credit(2147483647, { amount: '5.00', reason: 'test' }), 404, 'not_found');
        expectError(await credit('abc', { amount: '5.00', reason: 'test' }), 400);
      });

      describe('with an Idempotency-Key', () => {
        const creditWithKey = (id: number, key: string, payload: object) =>
          t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${id}/credit/`, headers: { ...admin, 'idempotency-key': key }, payload });
        const balanceOf = async (id: number) => (await getUser(id)).json().balance as string;

        it('credits once when the same request is sent again, answering the first result each time', async () => {
          const user = await newUser(t.app);
          const key = uniqueName('credit-key');
          const first = await creditWithKey(user.id, key, { amount: '25.00', reason: 'timed out on the client' });
          expect(first.statusCode, first.body).toBe(201);
          expect(first.headers['idempotent-replayed']).toBeUndefined();
          await credit(user.id, { amount: '1.00', reason: 'a later credit' });
          const again = await creditWithKey(user.id, key, { amount: '25.00', reason: 'timed out on the client' });
          expect(again.statusCode).toBe(201);
          expect(again.headers['idempotent-replayed']).toBe('true');
          expect(again.json()).toEqual(first.json());
          expect(await balanceOf(user.id)).toBe('26.00');
        });

        it('credits once under concurrent replays of one key', async () => {
          const user = await newUser(t.app);
          const key = uniqueName('credit-key');
          const answers = await Promise.all(Array.from({ length: 12 }, () => creditWithKey(user.id, key, { amount: '3.00', reason: 'burst' })));
          expect(answers.map((a) => a.statusCode)).toEqual(Array(12).fill(201));
          expect(new Set(answers.map((a) => a.json().transaction_id)).size).toBe(1);
          expect(answers.filter((a) => a.headers['idempotent-replayed'] !== 'true')).toHaveLength(1);
          expect(await balanceOf(user.id)).toBe('3.00');
        });

        it('answers 409 idempotency_key_reused for the same key with another amount, reason or user, and credits nothing more', async () => {
          const [user, other] = [await newUser(t.app), await newUser(t.app)];
          const key = uniqueName('credit-key');
          expect((await creditWithKey(user.id, key, { amount: '10.00', reason: 'first' })).statusCode).toBe(201);
          expectError(await creditWithKey(user.id, key, { amount: '11.00', reason: 'first' }), 409, 'idempotency_key_reused');
          expectError(await creditWithKey(user.id, key, { amount: '10.00', reason: 'second' }), 409, 'idempotency_key_reused');
          expectError(await creditWithKey(other.id, key, { amount: '10.00', reason: 'first' }), 409, 'idempotency_key_reused');
          expect(await balanceOf(user.id)).toBe('10.00');
          expect(await balanceOf(other.id)).toBe('0.00');
        });

        it('refuses a key of invisible or too many characters with a 400', async () => {
          const user = await newUser(t.app);
          expectError(await creditWithKey(user.id, 'x'.repeat(256), { amount: '1.00', reason: 'x' }), 400, 'validation_error');
          expect(await balanceOf(user.id)).toBe('0.00');
        });
      });
    });
  });
}
