// Users: search by name or email (prefix, any case), each with balance and state, linking to its page.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import { Field } from '../components/Field';
import { money } from '../format';
import { AdminPage } from './AdminPage';
import { Pager, QueryState, useCursor } from './ui';

export function Users() {
  const [search, setSearch] = useState('');
  const { cursor, setCursor, reset } = useCursor();
  const term = search.trim();
  const users = useQuery({
    queryKey: ['admin', 'users', term, cursor],
    queryFn: () =>
      unwrap(api.GET('/api/v1/admin/users/', { params: { query: { limit: 25, cursor, ...(term ? { search: term } : {}) } } })),
    placeholderData: keepPreviousData,
  });

  return (
    <AdminPage title="Users">
      <form className="filters" role="search" onSubmit={(event) => event.preventDefault()}>
        <Field
          label="Search users"
          hint="The start of a username or email address"
          type="search"
          value={search}
          autoComplete="off"
          onChange={(event) => {
            setSearch(event.target.value);
            reset();
          }}
        />
      </form>
      <QueryState query={users}>
        {(page) =>
          page.results.length === 0 ? (
            <p className="empty">{term ? `No user's name or email starts with “${term}”.` : 'No users yet.'}</p>
          ) : (
            <>
              <p className="muted" aria-live="polite">
                {page.count} {page.count === 1 ? 'user' : 'users'}
              </p>
              <table className="responsive">
                <caption className="visually-hidden">Users</caption>
                <thead>
                  <tr>
                    <th scope="col">User</th>
                    <th scope="col">Email</th>
                    <th scope="col">Balance</th>
                    <th scope="col">State</th>
                  </tr>
                </thead>
                <tbody>
                  {page.results.map((user) => (
                    <tr key={user.id}>
                      <td data-label="User">
                        <Link to={`/admin/users/${user.id}`}>{user.username}</Link>
                        {user.is_admin && <span className="muted"> (admin)</span>}
                      </td>
                      <td data-label="Email">{user.email ?? '—'}</td>
                      <td data-label="Balance">{money(user.balance)}</td>
                      <td data-label="State">{user.disabled ? <span className="status status-FAILED">Disabled</span> : 'Active'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager page={page} onCursor={setCursor} label="Users" />
            </>
          )
        }
      </QueryState>
    </AdminPage>
  );
}
