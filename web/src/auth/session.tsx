// The signed-in person, for the whole app. On load the session is restored once through the
// refresh cookie; sign-in/up, sign-out and sign-out-everywhere go through the browser auth routes.
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, csrfHeader, onSessionLost, refreshSession, unwrap } from '../api/client';
import { connectionState, subscribeConnection } from '../api/connection';
import { ApiError, NETWORK_ERROR } from '../api/errors';
import { setTokens } from '../api/session-token';
import type { Profile } from '../api/types';

type Status = 'restoring' | 'signed-in' | 'signed-out';

export interface Session {
  status: Status;
  user: Profile | null;
  /** Why the person was signed out without asking (the session expired or was ended elsewhere). */
  notice: string | null;
  signIn(username: string, password: string): Promise<void>;
  signUp(input: { username: string; password: string; email?: string }): Promise<void>;
  signOut(): Promise<void>;
  signOutEverywhere(): Promise<void>;
  setUser(user: Profile): void;
}

const SessionContext = createContext<Session | null>(null);

const loadProfile = () => unwrap(api.GET('/api/v1/auth/profile/'));
const endBrowserSession = () => unwrap(api.POST('/api/v1/auth/browser/logout/', { params: { header: csrfHeader() } }));

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<Status>('restoring');
  const [user, setUser] = useState<Profile | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const ended = useCallback(
    (message: string | null) => {
      setTokens(null);
      queryClient.clear();
      setUser(null);
      setNotice(message);
      setStatus('signed-out');
    },
    [queryClient],
  );

  useEffect(() => {
    let cancelled = false;
    let unsubscribe = () => {};
    const restore = () => {
      refreshSession()
        .then((tokens) => (tokens ? loadProfile() : null))
        .then((profile) => {
          if (cancelled) return;
          setUser(profile);
          setStatus(profile ? 'signed-in' : 'signed-out');
        })
        .catch((err: unknown) => {
          if (cancelled) return;
          // The server cannot be reached: the cookie may well be valid, so try again once it answers.
          if (err instanceof ApiError && err.code === NETWORK_ERROR) {
            unsubscribe = subscribeConnection(() => {
              if (connectionState() === 'offline') return;
              unsubscribe();
              restore();
            });
          } else {
            setStatus('signed-out');
          }
        });
    };
    restore();
    onSessionLost(() => ended('Your session has ended. Please sign in again.'));
    return () => {
      cancelled = true;
      unsubscribe();
    };
  }, [ended]);

  const signIn = useCallback(async (username: string, password: string) => {
    const tokens = await unwrap(api.POST('/api/v1/auth/browser/login/', { body: { username, password } }));
    setTokens(tokens);
    const profile = await loadProfile();
    setNotice(null);
    setUser(profile);
    setStatus('signed-in');
  }, []);

  const signUp = useCallback(
    async (input: { username: string; password: string; email?: string }) => {
      await unwrap(api.POST('/api/v1/auth/register/', { body: input }));
      await signIn(input.username, input.password);
    },
    [signIn],
  );

  const signOut = useCallback(async () => {
    try {
      await endBrowserSession();
    } finally {
      ended(null);
    }
  }, [ended]);

  const signOutEverywhere = useCallback(async () => {
    await unwrap(api.POST('/api/v1/auth/logout-all/'));
    // The cookie's session is among those just ended; clearing the cookies may answer 401.
    await endBrowserSession().catch(() => null);
    ended('You are signed out on every device.');
  }, [ended]);

  const value = useMemo<Session>(
    () => ({ status, user, notice, signIn, signUp, signOut, signOutEverywhere, setUser }),
    [status, user, notice, signIn, signUp, signOut, signOutEverywhere],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}
