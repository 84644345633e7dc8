// The account's transactions, newest first: filters by type and status, cursor pages (both kept in
// the address, so a page can be reloaded or shared), and a detail view that links an activation
// and its refund.
import { useQuery } from '@tanstack/react-query';
import { Link, useParams, useSearchParams } from 'react-router';
import { api, unwrap } from '../api/client';
import { messageOf } from '../api/errors';
import { useRefundOf } from '../api/refunds';
import type { Transaction } from '../api/types';
import { Alert, Loading } from '../components/Alert';
import { Button } from '../components/Button';
import { Page } from '../components/Page';
import { formatDate, money } from '../format';
import { accountQuery } from './Dashboard';

const TYPES = ['ACTIVATION', 'REFUND', 'CREDIT'] as const;
const STATUSES = ['PENDING', 'PROCESSING', 'SUCCESS', 'FAILED'] as const;
const PAGE_SIZE = 20;


const oneOf = <T extends string>(values: readonly T[], value: string | null): T | undefined =>
  values.find((candidate) => candidate === value);

const label = (value: string) => value.charAt(0) + value.slice(1).toLowerCase();

function what(tx: Transaction): string {
  if (tx.type === 'REFUND') return tx.offer ? `Refund of ${tx.offer.name}` : 'Refund';
  if (tx.offer) return tx.offer.name;
  return tx.description ?? label(tx.type);
}

function TransactionList() {
  const [params, setParams] = useSearchParams();
  const type = oneOf(TYPES, params.get('type'));
  const status = oneOf(STATUSES, params.get('status'));
  const cursor = params.get('cursor') ?? undefined;
  const account = useQuery(accountQuery);
  const currency = account.data?.currency ?? 'EUR';
  const page = useQuery({
    queryKey: ['transactions', { type, status, cursor }],
    queryFn: () =>
      unwrap(api.GET('/api/v1/account/transactions/', { params: { query: { limit: PAGE_SIZE, ...(type ? { type } : {}), ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) } } })),
    placeholderData: (previous) => previous,
  });

  const setFilter = (name: 'type' | 'status', value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    next.delete('cursor');
    setParams(next);
  };
  const goTo = (to: string | null) => {
    if (!to) return;
    const next = new URLSearchParams(params);
    next.set('cursor', to);
    setParams(next);
  };

  return (
    <Page title="History">
      <form className="filters" onSubmit={(event) => event.preventDefault()} aria-label="Filters">
        <div className="field">
          <label htmlFor="filter-type">Type</label>
          <select id="filter-type" value={type ?? ''} onChange={(event) => setFilter('type', event.target.value)}>
            <option value="">All types</option>
            {TYPES.map((value) => (
              <option key={value} value={value}>
                {label(value)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-status">Status</label>
          <select id="filter-status" value={status ?? ''} onChange={(event) => setFilter('status', event.target.value)}>
            <option value="">All statuses</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {label(value)}
              </option>
            ))}
          </select>
        </div>
      </form>
      {page.isPending ? (
        <Loading />
      ) : page.error ? (
        <Alert>{messageOf(page.error)}</Alert>
      ) : page.data.results.length === 0 ? (
        <p className="empty">No transactions{type || status ? ' match these filters' : ' yet'}.</p>
      ) : (
        <>
          <p className="muted" role="status">
            {page.data.count} transaction{page.data.count === 1 ? '' : 's'}
          </p>
          <table className="responsive">
            <caption className="visually-hidden">Transactions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">What</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Amount</th>
              </tr>
            </thead>
            <tbody>
              {page.data.results.map((tx) => (
                <tr key={tx.transaction_id}>
                  <td data-label="Date">{formatDate(tx.created_at)}</td>
                  <td data-label="What">
                    <Link to={`/history/${tx.transaction_id}`}>{what(tx)}</Link>
                  </td>
                  <td data-label="Type">{label(tx.type)}</td>
                  <td data-label="Status">
                    <span className={`status status-${tx.status}`}>{tx.status}</span>
                  </td>
                  <td data-label="Amount">{money(tx.type === 'ACTIVATION' ? `-${tx.amount}` : `+${tx.amount}`, currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav className="pager" aria-label="Pages">
            <Button variant="secondary" disabled={!page.data.previous} onClick={() => goTo(page.data.previous)}>
              Newer
            </Button>
            <Button variant="secondary" disabled={!page.data.next} onClick={() => goTo(page.data.next)}>
              Older
            </Button>
          </nav>
        </>
      )}
    </Page>
  );
}

function TransactionDetail({ id }: { id: string }) {
  const account = useQuery(accountQuery);
  const currency = account.data?.currency ?? 'EUR';
  const tx = useQuery({
    queryKey: ['transactions', 'detail', id],
    queryFn: () => unwrap(api.GET('/api/v1/account/transactions/{transaction_id}/', { params: { path: { transaction_id: id } } })),
  });
  const refund = useRefundOf(id, tx.data?.type === 'ACTIVATION' && tx.data.status === 'FAILED');
  return (
    <Page title="Transaction">
      <p>
        <Link to="/history">Back to the history</Link>
      </p>
      {tx.isPending ? (
        <Loading />
      ) : tx.error ? (
        <Alert>{messageOf(tx.error)}</Alert>
      ) : (
        <div className="card">
          <h2 className="detail-title">
            {what(tx.data)} <span className={`status status-${tx.data.status}`}>{tx.data.status}</span>
          </h2>
          <dl className="summary">
            <dt>Type</dt>
            <dd>{label(tx.data.type)}</dd>
            <dt>Amount</dt>
            <dd>{money(tx.data.amount, currency)}</dd>
            <dt>Created</dt>
            <dd>{formatDate(tx.data.created_at)}</dd>
            {tx.data.completed_at && (
              <>
                <dt>Completed</dt>
                <dd>{formatDate(tx.data.completed_at)}</dd>
              </>
            )}
            {tx.data.reference && (
              <>
                <dt>Partner reference</dt>
                <dd>{tx.data.reference}</dd>
              </>
            )}
            {tx.data.description && (
              <>
                <dt>Description</dt>
                <dd>{tx.data.description}</dd>
              </>
            )}
            <dt>Transaction id</dt>
            <dd className="mono">{tx.data.transaction_id}</dd>
          </dl>
          {tx.data.error && <Alert>Failed: {tx.data.error.message}</Alert>}
          {tx.data.related_transaction_id && (
            <p>
              <Link to={`/history/${tx.data.related_transaction_id}`}>
                {tx.data.type === 'REFUND' ? 'See the activation this refunds' : 'See the related transaction'}
              </Link>
            </p>
          )}
          {refund.data && (
            <p>
              <Link to={`/history/${refund.data}`}>See the refund of this activation</Link>
            </p>
          )}
        </div>
      )}
    </Page>
  );
}

export function History() {
  const { transactionId } = useParams();
  return transactionId ? <TransactionDetail key={transactionId} id={transactionId} /> : <TransactionList />;
}
