// The admin console: a separate chunk, loaded only when an admin opens /admin.
import { NavLink, Route, Routes } from 'react-router';
import { Page } from '../components/Page';

function AdminHome() {
  return <p>Choose a section.</p>;
}

export default function AdminApp() {
  return (
    <Page title="Admin">
      <nav aria-label="Admin">
        <ul className="subnav">
          <li>
            <NavLink to="/admin" end>
              Overview
            </NavLink>
          </li>
        </ul>
      </nav>
      <Routes>
        <Route index element={<AdminHome />} />
      </Routes>
    </Page>
  );
}
