// One user: balance, subscriptions, history, the credit form, and disable/enable.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { api, unwrap } from '../api/client';
import { ApiError, messageOf } from '../api/errors';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { Field } from '../components/Field';
import { useToast } from '../components/Toasts';
import { formatDate, money } from '../format';
import { AdminPage } from './AdminPage';
import { Facts, Pager, QueryState, StatusPill, newKey, useCursor } from './ui';

type Detail = Awaited<ReturnType<typeof fetchUser>>;

const fetchUser = (id: number) => unwrap(api.GET('/api/v1/admin/users/{id}/', { params: { path: { id } } }));

function CreditForm({ user }: { user: Detail }) {
  const queryClient = useQueryClient();
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [done, setDone] = useState<string | null>(null);
  // One key per intended credit: a double click or a retry of the same form credits once. Editing
  // the form makes it another credit, with a new key.
  const key = useRef(newKey());
  const edit = (set: (value: string) => void) => (value: string) => {
    set(value);
    key.current = newKey();
    setDone(null);
  };
  const credit = useMutation({
    mutationFn: (body: { amount: string; reason: string }) =>
      unwrap(
        api.POST('/api/v1/admin/users/{id}/credit/', {
          params: { path: { id: user.id }, header: { 'idempotency-key': key.current } },
          body,
        }),
      ),
    onSuccess: (result, body) => {
      setDone(`Credited ${money(body.amount)}. The balance is now ${money(result.balance)}.`);
      setAmount('');
      setReason('');
      key.current = newKey();
      return queryClient.invalidateQueries({ queryKey: ['admin'] });
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    credit.mutate({ amount: amount.trim(), reason: reason.trim() });
  };
  const error = credit.error instanceof ApiError ? credit.error : null;
  return (
    <form onSubmit={onSubmit} aria-labelledby="credit-title" noValidate>
      <h2 id="credit-title">Credit the balance</h2>
      {credit.error && <Alert>{messageOf(credit.error)}</Alert>}
      {done && <Alert kind="success">{done}</Alert>}
      <Field
        label="Amount (EUR)"
        inputMode="decimal"
        placeholder="25.00"
        value={amount}
        required
        onChange={(event) => edit(setAmount)(event.target.value)}
        error={error?.fieldMessage('amount')}
      />
      <Field
        label="Reason"
        hint="Kept in the ledger and the audit trail"
        value={reason}
        required
        maxLength={500}
        onChange={(event) => edit(setReason)(event.target.value)}
        error={error?.fieldMessage('reason')}
      />
      <div className="actions">
        <Button type="submit" busy={credit.isPending}>
          Credit {user.username}
        </Button>
      </div>
    </form>
  );
}

function AccessControl({ user }: { user: Detail }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  // Disable and enable swap one button for the other: the focus follows, so the keyboard stays here.
  const section = useRef<HTMLElement>(null);
  const changed = useRef(false);

  const change = useMutation({
    mutationFn: (action: 'disable' | 'enable') =>
      unwrap(
        action === 'disable'
          ? api.POST('/api/v1/admin/users/{id}/disable/', { params: { path: { id: user.id } } })
          : api.POST('/api/v1/admin/users/{id}/enable/', { params: { path: { id: user.id } } }),
      ),
    onSuccess: (updated) => {
      changed.current = true;
      toast(updated.disabled ? `${updated.username} is disabled and signed out everywhere.` : `${updated.username} can sign in again.`);
      return queryClient.invalidateQueries({ queryKey: ['admin'] });
    },
  });
  useEffect(() => {
    if (!changed.current || change.isPending) return;
    changed.current = false;
    section.current?.querySelector<HTMLButtonElement>('button')?.focus();
  }, [user.disabled, change.isPending]);
  return (
    <section ref={section} aria-labelledby="access-title">
      <h2 id="access-title">Access</h2>
      {change.error && <Alert>{messageOf(change.error)}</Alert>}
      {user.disabled ? (
        <>
          <p>
            Disabled{user.disabled_at ? ` since ${formatDate(user.disabled_at)}` : ''}: this user cannot sign in. Their paid activations
            still finish and their subscriptions run on.
          </p>
          <Button variant="secondary" busy={change.isPending} onClick={() => change.mutate('enable')}>
            Enable {user.username}
          </Button>
        </>
      ) : (
        <>
          <p>Disabling signs this user out everywhere at once and stops new sign-ins.</p>
          <Button variant="danger" busy={change.isPending} onClick={() => change.mutate('disable')}>
            Disable {user.username}
          </Button>
        </>
      )}
    </section>
  );
}

function History({ userId }: { userId: number }) {
  const { cursor, setCursor } = useCursor();
  const history = useQuery({
    queryKey: ['admin', 'transactions', userId, cursor],
    queryFn: () => unwrap(api.GET('/api/v1/admin/transactions/', { params: { query: { user: userId, limit: 20, cursor } } })),
  });
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <QueryState query={history}>
        {(page) =>
          page.results.length === 0 ? (
            <p className="empty">No transactions yet.</p>
          ) : (
            <>
              <table className="responsive">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Type</th>
                    <th scope="col">What</th>
                    <th scope="col">Amount</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {page.results.map((tx) => (
                    <tr key={tx.transaction_id}>
                      <td data-label="When">{formatDate(tx.created_at)}</td>
                      <td data-label="Type">{tx.type}</td>
                      <td data-label="What">{tx.offer?.name ?? tx.description ?? '—'}</td>
                      <td data-label="Amount">{money(tx.amount)}</td>
                      <td data-label="Status">
                        <StatusPill status={tx.status} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager page={page} onCursor={setCursor} label="History" />
            </>
          )
        }
      </QueryState>
    </section>
  );
}

export function UserDetail() {
  const id = Number(useParams().id);
  const user = useQuery({ queryKey: ['admin', 'user', id], queryFn: () => fetchUser(id), enabled: Number.isInteger(id) && id > 0 });
  return (
    <AdminPage title={user.data ? `User ${user.data.username}` : 'User'}>
      <p>
        <Link to="/admin/users">← All users</Link>
      </p>
      <QueryState query={user}>
        {(detail) => (
          <>
            {detail.disabled && (
              <p>
                <span className="status status-FAILED">Disabled</span>
              </p>
            )}
            <div className="card balance-card">
              <h3>Balance</h3>
              <p className="balance" data-testid="admin-balance">
                {money(detail.balance)}
              </p>
            </div>
            <Facts
              items={[
                ['Email', detail.email ?? '—'],
                ['Joined', formatDate(detail.date_joined)],
                ['Role', detail.is_admin ? 'Administrator' : 'Customer'],
              ]}
            />
            <div className="admin-columns">
              <CreditForm user={detail} />
              <AccessControl user={detail} />
            </div>
            <section aria-labelledby="subs-title">
              <h2 id="subs-title">Subscriptions</h2>
              {detail.subscriptions.length === 0 ? (
                <p className="empty">No active subscriptions.</p>
              ) : (
                <ul className="list">
                  {detail.subscriptions.map((sub) => (
                    <li key={sub.id} className="card">
                      <h3>{sub.offer.name}</h3>
                      <Facts
                        items={[
                          ['Ends', formatDate(sub.expires_at)],
                          ['Auto-renew', sub.auto_renew ? 'On' : 'Off'],
                          ['Status', sub.status],
                        ]}
                      />
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <History userId={detail.id} />
          </>
        )}
      </QueryState>
    </AdminPage>
  );
}
