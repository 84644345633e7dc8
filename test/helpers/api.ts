// Small HTTP helpers over fastify.inject for tests.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ADMIN } from './backends.js';

export const uniqueName = (prefix = 'user') => `${prefix}_${randomBytes(5).toString('hex')}`;

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export async function login(app: FastifyInstance, username: string, password: string) {
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login/', payload: { username, password } });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return res.json() as { access: string; refresh: string };
}

const adminTokens = new WeakMap<FastifyInstance, Promise<string>>();

/** The bootstrap admin's access token, logged in once per app (argon2 makes logins slow on purpose). */
export function adminToken(app: FastifyInstance): Promise<string> {
  let token = adminTokens.get(app);
  if (!token) {
    token = login(app, ADMIN.username, ADMIN.password).then((t) => t.access);
    adminTokens.set(app, token);
  }
  return token;
}

export interface TestUser {
  id: number;
  username: string;
  password: string;
  access: string;
  refresh: string;
}

export async function newUser(app: FastifyInstance, options: { balance?: string } = {}): Promise<TestUser> {
  const username = uniqueName();
  const password = 'correct horse battery';
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/register/', payload: { username, password } });
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
  const { id } = res.json() as { id: number };
  if (options.balance) await credit(app, id, options.balance);
  return { id, username, password, ...(await login(app, username, password)) };
}

export async function credit(app: FastifyInstance, userId: number, amount: string, reason = 'test top-up') {
  const res = await app.inject({
    method: 'POST',
    url: `/api/v1/admin/users/${userId}/credit/`,
    headers: bearer(await adminToken(app)),
    payload: { amount, reason },
  });
  if (res.statusCode !== 201) throw new Error(`credit failed: ${res.statusCode} ${res.body}`);
  return res.json() as { transaction_id: string; balance: string };
}

/** An offer as the API shows it. */
export interface Offer {
  id: number;
  name: string;
  description: string;
  price: string;
  duration_days: number;
  is_active: boolean;
}

export async function newOffer(
  app: FastifyInstance,
  fields: { price?: string; duration_days?: number; is_active?: boolean; name?: string } = {},
) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/admin/offers/',
    headers: bearer(await adminToken(app)),
    payload: { name: fields.name ?? uniqueName('offer'), description: 'test offer', price: '20.00', duration_days: 30, ...fields },
  });
  if (res.statusCode !== 201) throw new Error(`offer failed: ${res.statusCode} ${res.body}`);
  return res.json() as Offer;
}

export async function activate(app: FastifyInstance, access: string, offerId: unknown, idempotencyKey?: string) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/activation/',
    headers: { ...bearer(access), ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    payload: { offer_id: offerId },
  });
}

export interface ActivationStatus {
  transaction_id: string;
  status: 'PENDING' | 'PROCESSING' | 'SUCCESS' | 'FAILED';
  offer_id: number;
  amount: string;
  reference?: string;
  error?: { code: string; message: string };
  completed_at: string | null;
}

export async function activationStatus(app: FastifyInstance, access: string, id: string) {
  return app.inject({ method: 'GET', url: `/api/v1/activation/status/${id}/`, headers: bearer(access) });
}

/** Polls the status endpoint until the activation is SUCCESS or FAILED (bounded). */
export async function waitForFinal(app: FastifyInstance, access: string, id: string, timeoutMs = 20_000): Promise<ActivationStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await activationStatus(app, access, id);
    const body = res.json() as ActivationStatus;
    if (body.status === 'SUCCESS' || body.status === 'FAILED') return body;
    if (Date.now() > deadline) throw new Error(`activation ${id} still ${body.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function getJson<T = Record<string, unknown>>(app: FastifyInstance, access: string, url: string): Promise<T> {
  const res = await app.inject({ method: 'GET', url, headers: bearer(access) });
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode} ${res.body}`);
  return res.json() as T;
}
