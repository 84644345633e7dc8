// Shared steps of the webhook tests: the admin API for endpoints and deliveries, and a pass of the
// worker's webhook work (fan-out of the outbox, then the sender) run by the test itself.
import type { FastifyInstance } from 'fastify';
import type { AttemptView, DeliveryView, EndpointView } from '../../src/webhooks/domain.js';
import { expect } from 'vitest';
import { adminToken, bearer } from '../helpers/api.js';
import type { TestApp } from '../helpers/backends.js';
import { drain } from '../notifications/helpers.js';

/** The API's views, as the service declares them; `secret` only in the create and rotate answers. */
export type Endpoint = EndpointView & { secret?: string };
export type Attempt = AttemptView;
export type Delivery = DeliveryView;

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
