// The audit trail: every admin change with who, when, from where and the state before and after.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import { ApiError } from '../api/errors';
import { Button } from '../components/Button';
import { Field } from '../components/Field';
import { formatDate } from '../format';
import { AdminPage } from './AdminPage';
import { Pager, QueryState, useCursor } from './ui';

interface Filter {
  actor: string;
  action: string;
  target: string;
}

const EMPTY: Filter = { actor: '', action: '', target: '' };

/** user:12 → a link to the user's page; other targets as they are. */
function Target({ target }: { target: string }) {
  const user = /^user:(\d+)$/.exec(target);
  if (user) return <Link to={`/admin/users/${user[1]}`}>{target}</Link>;
  return <span className="mono">{target}</span>;
}

const json = (value: unknown) => (value === null || value === undefined ? '—' : JSON.stringify(value, null, 1));

export function Audit() {
  const [draft, setDraft] = useState<Filter>(EMPTY);
  const [filter, setFilter] = useState<Filter>(EMPTY);
  const { cursor, setCursor, reset } = useCursor();
  const query = Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== '')) as Partial<Filter>;
  const trail = useQuery({
    queryKey: ['admin', 'audit', query, cursor],
    // The OpenAPI document names this route without its trailing slash (a prefixed plugin's '/'),
    // unlike every other route; the server answers both.
    queryFn: () => unwrap(api.GET('/api/v1/admin/audit/', { params: { query: { limit: 25, cursor, ...query } } })),
    placeholderData: keepPreviousData,
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setFilter({ actor: draft.actor.trim(), action: draft.action.trim(), target: draft.target.trim() });
    reset();
  };
  const error = trail.error instanceof ApiError ? trail.error : null;
  const set = (field: keyof Filter) => (value: string) => setDraft({ ...draft, [field]: value });
  return (
    <AdminPage title="Audit trail">
      <form className="filters" onSubmit={onSubmit} aria-label="Filter the audit trail">
        <Field label="Actor" placeholder="admin" value={draft.actor} onChange={(e) => set('actor')(e.target.value)} error={error?.fieldMessage('actor')} />
        <Field label="Action" placeholder="balance.credit" value={draft.action} onChange={(e) => set('action')(e.target.value)} error={error?.fieldMessage('action')} />
        <Field label="Target" placeholder="user:12" value={draft.target} onChange={(e) => set('target')(e.target.value)} error={error?.fieldMessage('target')} />
        <Button type="submit">Filter</Button>
      </form>
      <QueryState query={trail}>
        {(page) =>
          page.results.length === 0 ? (
            <p className="empty">No audit rows match.</p>
          ) : (
            <>
              <table className="responsive audit">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Actor</th>
                    <th scope="col">Action</th>
                    <th scope="col">Target</th>
                    <th scope="col">Before</th>
                    <th scope="col">After</th>
                  </tr>
                </thead>
                <tbody>
                  {page.results.map((row) => (
                    <tr key={row.id}>
                      <td data-label="When">
                        {formatDate(row.created_at)}
                        {row.client_address && <div className="muted">{row.client_address}</div>}
                      </td>
                      <td data-label="Actor">{row.actor}</td>
                      <td data-label="Action">{row.action}</td>
                      <td data-label="Target">
                        <Target target={row.target} />
                      </td>
                      <td data-label="Before">
                        <pre className="json">{json(row.before)}</pre>
                      </td>
                      <td data-label="After">
                        <pre className="json">{json(row.after)}</pre>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager page={page} onCursor={setCursor} label="Audit trail" />
            </>
          )
        }
      </QueryState>
    </AdminPage>
  );
}
