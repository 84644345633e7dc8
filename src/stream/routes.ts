// GET /api/v1/events/stream/ (Server-Sent Events of the caller's own events) and
// POST /api/v1/events/ticket/ (a single-use ticket for clients that cannot send a header).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { requireUser } from '../auth/guard.js';
import { DomainError, invalid, unauthenticated } from '../domain/errors.js';
import { errors } from '../http/schemas.js';
import type { CommitSignal } from './commit-signal.js';
import { StreamConnection } from './connection.js';
import { StreamHub, streamEvent } from './hub.js';
import { decodePosition, type Position } from './position.js';
import { userEventsAfter } from './queries.js';
import { EventStream, StreamHeaders, StreamQuery, StreamTicket } from './schemas.js';
import { MemoryTicketStore, RedisTicketStore, type TicketStore } from './tickets.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Writers call commits.notify() after committing events, so streams get them at once. */
    commits: CommitSignal;
  }
}

const security = [{ bearer: [] }];
const REPLAY_PAGE = 500;
const TOO_MANY_RETRY_SECONDS = 5;

const streamRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const settings = app.config.stream;
  const hub = new StreamHub(app.db, app.commits, { pollMs: settings.pollMs, batch: REPLAY_PAGE }, app.log);
  const tickets: TicketStore = app.redis
    ? new RedisTicketStore(app.redis, app.config.redisKeyPrefix, settings.ticketTtlSeconds)
    : new MemoryTicketStore(settings.ticketTtlSeconds);
  // close() waits for open responses, and a stream never ends by itself.
  app.addHook('preClose', async () => hub.endAll());
  app.addHook('onClose', async () => hub.stop());

  /** A Bearer header, or a ticket in the query for EventSource. */
  async function streamAuth(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { ticket } = request.query as { ticket?: unknown };
    if (typeof ticket !== 'string') return requireUser(request, reply);
    const claims = await tickets.redeem(ticket);
    if (!claims) throw unauthenticated('invalid_ticket', 'Stream ticket is invalid, used or expired');
    request.user = claims;
  }

  app.post('/api/v1/events/ticket/', {
    onRequest: requireUser,
    schema: { tags: ['events'], security, response: { 200: StreamTicket, ...errors(401) } },
  }, async (request) => ({ ticket: await tickets.issue(request.user), expires_in: settings.ticketTtlSeconds }));

  app.get('/api/v1/events/stream/', {
    // After validation, so a malformed ticket (a NUL in it, say) is a 400 like any other bad input.
    preHandler: streamAuth,
    schema: { tags: ['events'], security, headers: StreamHeaders, querystring: StreamQuery, response: { 200: EventStream, ...errors(400, 401, 429) } },
  }, async (request, reply) => {
    const { userId } = request.user;
    const lastEventId = request.headers['last-event-id'] ?? request.query.last_event_id;
    let from: Position | undefined;
    if (lastEventId !== undefined) {
      from = decodePosition(lastEventId);
      if (!from) throw invalid('invalid_last_event_id', 'Last-Event-ID is not an id this stream sent');
    }
    if (hub.streamsOf(userId) >= settings.maxPerUser) {
      throw new DomainError('too_many_streams', `At most ${settings.maxPerUser} streams per user are open at once`, undefined, TOO_MANY_RETRY_SECONDS);
    }

    const stream = new StreamConnection(userId, { heartbeatMs: settings.heartbeatMs, bufferBytes: settings.bufferBytes });
    try {
      await hub.add(stream);
    } catch (err) {
      stream.drop();
      throw err;
    }
    reply.raw.once('close', () => {
      hub.remove(stream);
      stream.drop();
    });
    // The heartbeats show the connection alive; the idle timeout meant for requests would cut it.
    request.raw.socket.setTimeout(0);
    const page = async (after: Position) => (await userEventsAfter(app.db, userId, after, REPLAY_PAGE)).map(streamEvent);
    stream.replay(from, page, REPLAY_PAGE).catch((err: unknown) => {
      request.log.warn({ err: (err as Error).message }, 'stream replay failed; the client resumes with Last-Event-ID');
      stream.drop();
    });
    return reply.header('content-type', 'text/event-stream; charset=utf-8').header('x-accel-buffering', 'no').send(stream.body as never); // a stream: sent as it is, not serialised
  });
};

export default streamRoutes;
