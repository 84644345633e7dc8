// The admin console: a separate chunk, loaded only when an admin opens /admin.
import { Navigate, Route, Routes } from 'react-router';
import { Activations } from './Activations';
import { AdminPage } from './AdminPage';
import { Audit } from './Audit';
import { Offers } from './Offers';
import { System } from './System';
import { UserDetail } from './UserDetail';
import { Users } from './Users';
import { WebhookDetail } from './WebhookDetail';
import { Webhooks } from './Webhooks';
import './admin.css';

function NotFound() {
  return (
    <AdminPage title="Not found">
      <p>There is no admin page at this address.</p>
    </AdminPage>
  );
}

export default function AdminApp() {
  return (
    <Routes>
      <Route index element={<Navigate to="users" replace />} />
      <Route path="users" element={<Users />} />
      <Route path="users/:id" element={<UserDetail />} />
      <Route path="offers" element={<Offers />} />
      <Route path="activations" element={<Activations />} />
      <Route path="webhooks" element={<Webhooks />} />
      <Route path="webhooks/:id" element={<WebhookDetail />} />
      <Route path="audit" element={<Audit />} />
      <Route path="system" element={<System />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
