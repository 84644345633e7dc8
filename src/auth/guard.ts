// Request guards: a valid access token of a live session for every API route, and a current admin for /admin.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { findUserById } from './queries.js';
import { forbidden, unauthenticated } from '../domain/errors.js';

export async function requireUser(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const header = request.headers.authorization;
  if (!header) throw unauthenticated('not_authenticated', 'Authentication credentials were not provided');
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const claims = match?.[1] ? await request.server.auth.authenticate(match[1]) : undefined;
  if (!claims) throw unauthenticated('invalid_token', 'Access token is invalid or expired');
  request.user = claims;
}

/** Admin rights are read from the database, so a demoted admin loses them at once. */
export async function requireAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  await requireUser(request, reply);
  const user = await findUserById(request.server.db, request.user.userId);
  if (!user?.is_admin) throw forbidden('Admin rights are required');
}
