// The frame of every signed-in page: skip link, header with navigation, the bell and sign-out.
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, NavLink, Outlet, useLocation } from 'react-router';
import { api, unwrap } from '../api/client';
import { messageOf } from '../api/errors';
import { useSession } from '../auth/session';
import { Button } from './Button';
import { ErrorBoundary } from './ErrorBoundary';
import { useToast } from './Toasts';

export const unreadQuery = {
  queryKey: ['notifications', 'unread'],
  queryFn: () => unwrap(api.GET('/api/v1/notifications/', { params: { query: { unread: true, limit: 1 } } })),
  refetchInterval: 30_000,
};

function Bell() {
  const { data } = useQuery(unreadQuery);
  const unread = data?.unread_count ?? 0;
  return (
    <Link to="/notifications" className="bell" aria-label={`Notifications, ${unread} unread`}>
      <svg aria-hidden="true" viewBox="0 0 24 24" width="22" height="22">
        <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z" />
      </svg>
      {unread > 0 && <span className="badge">{unread > 99 ? '99+' : unread}</span>}
    </Link>
  );
}

export function Layout() {
  const { user, signOut } = useSession();
  const location = useLocation();
  const toast = useToast();
  const [busy, setBusy] = useState(false);
  const links = [
    { to: '/', label: 'Dashboard', end: true },
    { to: '/offers', label: 'Offers' },
    { to: '/history', label: 'History' },
    { to: '/notifications', label: 'Notifications' },
    { to: '/profile', label: 'Profile' },
    ...(user?.is_admin ? [{ to: '/admin', label: 'Admin' }] : []),
  ];
  const onSignOut = async () => {
    setBusy(true);
    try {
      await signOut();
    } catch (err) {
      toast(messageOf(err), 'error');
      setBusy(false);
    }
  };
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="header-row">
          <Link to="/" className="brand">
            Offers
          </Link>
          <div className="header-actions">
            <Bell />
            <span className="who" title="Signed in">
              {user?.username}
            </span>
            <Button variant="secondary" onClick={onSignOut} busy={busy}>
              Sign out
            </Button>
          </div>
        </div>
        <nav aria-label="Main">
          <ul className="nav">
            {links.map((link) => (
              <li key={link.to}>
                <NavLink to={link.to} end={link.end ?? false}>
                  {link.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {/* Keyed by the address: leaving a page that failed gives the next one a fresh start. */}
        <ErrorBoundary key={location.pathname}>
          <Outlet />
        </ErrorBoundary>
      </main>
    </>
  );
}
