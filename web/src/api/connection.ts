// Whether the server answers: a failed fetch marks the connection lost; any answer, or the health
// probe the banner runs meanwhile, marks it back ('restored' for a few seconds, then 'online').
import { useSyncExternalStore } from 'react';

export type ConnectionState = 'online' | 'offline' | 'restored';

const RESTORED_SHOWN_MS = 4000;
let state: ConnectionState = 'online';
let restoredTimer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<() => void>();

function set(next: ConnectionState): void {
  if (state === next) return;
  state = next;
  for (const listener of listeners) listener();
}

export const markOffline = () => {
  clearTimeout(restoredTimer);
  set('offline');
};

export const markOnline = () => {
  if (state !== 'offline') return;
  set('restored');
  restoredTimer = setTimeout(() => set('online'), RESTORED_SHOWN_MS);
};

export const connectionState = () => state;

export function subscribeConnection(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const useConnection = () => useSyncExternalStore(subscribeConnection, connectionState);
