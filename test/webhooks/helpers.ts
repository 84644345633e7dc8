// Shared steps of the webhook tests: the admin API for endpoints and deliveries, and a pass of the
// worker's webhook work (fan-out of the outbox, then the sender) run by the test itself.
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { adminToken, bearer } from '../helpers/api.js';
import type { TestApp } from '../helpers/backends.js';
import { drain } from '../notifications/helpers.js';

export interface Endpoint {
  id: number;
  url: string;
  description: string;
  events: string[];
  enabled: boolean;
  disabled_reason: string | null;
  failing_since: string | null;
  last_success_at: string | null;
  previous_secret_expires_at: string | null;
  secret?: string;
}

export interface Attempt {
  attempted_at: string;
  http_status: number | null;
  error: string | null;
  duration_ms: number;
  response_body: string | null;
  success: boolean;
}

export interface Delivery {
  id: number;
  event_id: string;
  event_type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: string | null;
  delivered_at: string | null;
  attempt_log: Attempt[];
}

export async function adminCall(app: FastifyInstance, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) {
  return app.inject({ method, url, headers: bearer(await adminToken(app)), ...(payload === undefined ? {} : { payload: payload as object }) });
}

export async function createEndpoint(app: FastifyInstance, body: Record<string, unknown>): Promise<Endpoint & { secret: string }> {
  const res = await adminCall(app, 'POST', '/api/v1/admin/webhooks/', body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as Endpoint & { secret: string };
}

export async function deliveries(app: FastifyInstance, endpointId: number, query = ''): Promise<Delivery[]> {
  const res = await adminCall(app, 'GET', `/api/v1/admin/webhooks/${endpointId}/deliveries/${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { results: Delivery[] }).results;
}

/** What a worker's pass does: every event so far becomes deliveries, then the due ones are sent. */
export async function webhookPass(t: TestApp) {
  await drain(t.runtime.db, t.runtime.webhooks.fanOut);
  return t.runtime.webhooks.sender.runOnce();
}
