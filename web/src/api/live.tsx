// The signed-in person's events as they happen (Server-Sent Events). EventSource cannot send the
// Authorization header, so each connection trades the token for a single-use ticket; after a drop
// it reconnects with a new ticket and the last id seen, so nothing is missed. Every event refreshes
// the data it changes; pages that follow one activation also listen here. While the stream is down,
// `live` is false and those pages poll instead.
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, unwrap } from './client';

export interface LiveEvent {
  id: string;
  seq: number;
  type: string;
  created_at: string;
  subject: string;
  data: Record<string, unknown>;
}

type Listener = (event: LiveEvent) => void;

interface Live {
  live: boolean;
  subscribe(listener: Listener): () => void;
}

const LiveContext = createContext<Live>({ live: false, subscribe: () => () => {} });

const EVENT_TYPES = [
  'balance.credited',
  'balance.low',
  'activation.pending',
  'activation.succeeded',
  'activation.failed',
  'refund.created',
  'subscription.activated',
  'subscription.extended',
  'subscription.expiring',
  'subscription.expired',
  'subscription.renewal_failed',
];

/** Which cached answers an event makes stale. */
function staleKeys(type: string): string[][] {
  if (type.startsWith('subscription.')) return [['subscriptions'], ['notifications'], ['account']];
  return [['account'], ['transactions'], ['subscriptions'], ['notifications']];
}

const MAX_BACKOFF_MS = 15_000;
const NOTIFICATION_LOOKS_MS = [1500, 4000, 10_000];

export function LiveEventsProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const listeners = useRef(new Set<Listener>());
  const [live, setLive] = useState(false);

  useEffect(() => {
    let source: EventSource | null = null;
    let stopped = false;
    let lastId: string | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let notificationTimers: ReturnType<typeof setTimeout>[] = [];
    let failures = 0;

    const onEvent = (message: MessageEvent<string>) => {
      if (message.lastEventId) lastId = message.lastEventId;
      let event: LiveEvent;
      try {
        event = JSON.parse(message.data) as LiveEvent;
      } catch {
        return;
      }
      for (const key of staleKeys(event.type)) void queryClient.invalidateQueries({ queryKey: key });
      // The worker writes the notification a little after the event (it polls the outbox, every
      // second by default): look again a few times.
      for (const timer of notificationTimers) clearTimeout(timer);
      notificationTimers = NOTIFICATION_LOOKS_MS.map((ms) => setTimeout(() => void queryClient.invalidateQueries({ queryKey: ['notifications'] }), ms));
      for (const listener of listeners.current) listener(event);
    };

    const connect = async () => {
      if (stopped) return;
      try {
        const { ticket } = await unwrap(api.POST('/api/v1/events/ticket/'));
        if (stopped) return;
        const params = new URLSearchParams({ ticket });
        if (lastId) params.set('last_event_id', lastId);
        source = new EventSource(`/api/v1/events/stream/?${params}`);
        source.onopen = () => {
          failures = 0;
          setLive(true);
          // Whatever happened before the stream was open (or while it was down without a resume
          // point) is picked up by looking again once.
          if (!lastId) for (const key of staleKeys('')) void queryClient.invalidateQueries({ queryKey: key });
        };
        for (const type of EVENT_TYPES) source.addEventListener(type, onEvent);
        source.onerror = () => {
          // The ticket was spent: EventSource's own retry would be refused. Start over with a new one.
          source?.close();
          source = null;
          setLive(false);
          retry();
        };
      } catch {
        setLive(false);
        retry();
      }
    };

    const retry = () => {
      if (stopped) return;
      failures += 1;
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(failures - 1, 4));
      retryTimer = setTimeout(() => void connect(), delay);
    };

    void connect();
    return () => {
      stopped = true;
      clearTimeout(retryTimer);
      for (const timer of notificationTimers) clearTimeout(timer);
      source?.close();
    };
  }, [queryClient]);

  // With the stream, events keep the cached answers fresh; without it, each page asks again.
  useEffect(() => {
    const defaults = queryClient.getDefaultOptions();
    queryClient.setDefaultOptions({ ...defaults, queries: { ...defaults.queries, staleTime: live ? 10_000 : 0 } });
  }, [live, queryClient]);

  const value = useMemo<Live>(
    () => ({
      live,
      subscribe: (listener) => {
        listeners.current.add(listener);
        return () => listeners.current.delete(listener);
      },
    }),
    [live],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export const useLiveEvents = () => useContext(LiveContext);
