// Routes: the sign-in pages for visitors, everything else behind a session.
import type { ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { AdminGate } from './admin/AdminGate';
import { LiveEventsProvider } from './api/live';
import { useSession } from './auth/session';
import { Loading } from './components/Alert';
import { ConnectionBanner } from './components/ConnectionBanner';
import { Layout } from './components/Layout';
import { Page } from './components/Page';
import { Dashboard } from './pages/Dashboard';
import { History } from './pages/History';
import { Notifications } from './pages/Notifications';
import { Offers } from './pages/Offers';
import { Profile } from './pages/Profile';
import { returnTo, SignIn } from './pages/SignIn';
import { SignUp } from './pages/SignUp';

function RequireSession({ children }: { children: ReactNode }) {
  const { status } = useSession();
  const location = useLocation();
  if (status === 'restoring') return <Loading label="Restoring your session…" />;
  if (status === 'signed-out') return <Navigate to="/signin" replace state={{ from: location.pathname + location.search }} />;
  return <LiveEventsProvider>{children}</LiveEventsProvider>;
}

function VisitorOnly({ children }: { children: ReactNode }) {
  const { status } = useSession();
  const location = useLocation();
  if (status === 'restoring') return <Loading label="Restoring your session…" />;
  // Signing in re-renders this before the form's own navigation: go where the visitor was headed.
  if (status === 'signed-in') return <Navigate to={returnTo(location.state)} replace />;
  return <main id="main">{children}</main>;
}

function NotFound() {
  return (
    <Page title="Page not found">
      <p>There is nothing at this address.</p>
    </Page>
  );
}

export function App() {
  return (
    <>
      <ConnectionBanner />
      <Routes>
        <Route path="/signin" element={<VisitorOnly><SignIn /></VisitorOnly>} />
        <Route path="/signup" element={<VisitorOnly><SignUp /></VisitorOnly>} />
        <Route element={<RequireSession><Layout /></RequireSession>}>
          <Route index element={<Dashboard />} />
          <Route path="offers" element={<Offers />} />
          <Route path="history" element={<History />} />
          <Route path="history/:transactionId" element={<History />} />
          <Route path="notifications" element={<Notifications />} />
          <Route path="profile" element={<Profile />} />
          <Route path="admin/*" element={<AdminGate />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </>
  );
}
