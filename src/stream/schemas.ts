import { Type } from 'typebox';

export const StreamQuery = Type.Object(
  {
    ticket: Type.Optional(Type.String({ maxLength: 100, description: 'A ticket from POST /api/v1/events/ticket/, for clients that cannot send headers' })),
    last_event_id: Type.Optional(Type.String({ maxLength: 100, description: 'Where to resume, for clients that cannot send the Last-Event-ID header' })),
  },
  { additionalProperties: false },
);

export const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ maxLength: 100, description: 'The id of the last event received: the stream resumes after it' })),
});

export const StreamTicket = Type.Object({
  ticket: Type.String({ description: 'Good for one GET /api/v1/events/stream/?ticket=…' }),
  expires_in: Type.Integer({ description: 'Seconds the ticket stays good' }),
});

export const EventStream = Type.String({
  description: 'text/event-stream: per event `id:` (a position to resume from), `event:` (the type), `data:` {id, seq, type, created_at, subject, data}; `: ping` comments as heartbeats',
});
