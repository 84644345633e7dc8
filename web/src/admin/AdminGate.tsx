// /admin for is_admin users only; the console's code is fetched only when one opens it.
import { lazy, Suspense } from 'react';
import { useSession } from '../auth/session';
import { Alert, Loading } from '../components/Alert';
import { Page } from '../components/Page';

const AdminApp = lazy(() => import('./AdminApp'));

export function AdminGate() {
  const { user } = useSession();
  if (!user?.is_admin) {
    return (
      <Page title="Not allowed">
        <Alert>Only administrators can open the admin console.</Alert>
      </Page>
    );
  }
  return (
    <Suspense fallback={<Loading label="Loading the admin console…" />}>
      <AdminApp />
    </Suspense>
  );
}
