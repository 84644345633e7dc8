// Says so when the server cannot be reached, probes until it answers again, then refreshes the page's data.
import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { markOffline, markOnline, useConnection } from '../api/connection';

const PROBE_MS = 2000;

export function ConnectionBanner() {
  const state = useConnection();
  const queryClient = useQueryClient();

  useEffect(() => {
    const goneOffline = () => markOffline();
    if (!navigator.onLine) goneOffline();
    window.addEventListener('offline', goneOffline);
    return () => window.removeEventListener('offline', goneOffline);
  }, []);

  useEffect(() => {
    if (state === 'restored') void queryClient.invalidateQueries();
    if (state !== 'offline') return;
    const timer = setInterval(() => {
      fetch('/health', { cache: 'no-store' })
        .then((response) => {
          if (response.ok) markOnline();
        })
        .catch(() => {});
    }, PROBE_MS);
    return () => clearInterval(timer);
  }, [state, queryClient]);

  return (
    <div className={`connection connection-${state}`} role="status" aria-live="polite">
      {state === 'offline' ? 'Connection lost. Trying to reconnect…' : state === 'restored' ? 'Connection restored.' : ''}
    </div>
  );
}
