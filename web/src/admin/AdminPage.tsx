// The frame of every admin page: its own title (focused after navigation) and the console's menu.
import type { ReactNode } from 'react';
import { NavLink } from 'react-router';
import { Page } from '../components/Page';

const SECTIONS = [
  { to: '/admin/users', label: 'Users' },
  { to: '/admin/offers', label: 'Offers' },
  { to: '/admin/activations', label: 'Activations' },
  { to: '/admin/webhooks', label: 'Webhooks' },
  { to: '/admin/audit', label: 'Audit trail' },
  { to: '/admin/system', label: 'System' },
];

export function AdminPage({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  return (
    <Page title={title} actions={actions}>
      <nav aria-label="Admin">
        <ul className="subnav">
          {SECTIONS.map((section) => (
            <li key={section.to}>
              <NavLink to={section.to}>{section.label}</NavLink>
            </li>
          ))}
        </ul>
      </nav>
      {children}
    </Page>
  );
}
