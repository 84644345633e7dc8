// Activations: by status, the ones needing review, and the tools for stuck ones (redrive, resolve).
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, unwrap } from '../api/client';
import { ApiError, messageOf } from '../api/errors';
import type { ResponseOf } from '../api/types';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { Field } from '../components/Field';
import { useToast } from '../components/Toasts';
import { formatDate, money } from '../format';
import { AdminPage } from './AdminPage';
import { Facts, Pager, QueryState, StatusPill, useCursor, useFocusOnToggle } from './ui';

type Activation = ResponseOf<'/api/v1/admin/activations/', 'get'>['results'][number];
type Status = NonNullable<Activation['status']>;

const STATUSES: Status[] = ['PENDING', 'PROCESSING', 'SUCCESS', 'FAILED'];
const isFinished = (a: Activation) => a.status === 'SUCCESS' || a.status === 'FAILED';

function ResolveForm({ activation, onDone }: { activation: Activation; onDone: () => void }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const name = useId();
  // A refunded one awaiting review can only be confirmed failed: the money went back already.
  const onlyFailed = activation.needs_review;
  const [outcome, setOutcome] = useState<'SUCCESS' | 'FAILED'>(onlyFailed ? 'FAILED' : 'SUCCESS');
  const [reference, setReference] = useState('');
  const [reason, setReason] = useState('');
  const resolve = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/admin/activations/{id}/resolve/', {
          params: { path: { id: activation.transaction_id } },
          body: outcome === 'SUCCESS' ? { outcome, reference: reference.trim() } : { outcome, reason: reason.trim() },
        }),
      ),
    onSuccess: async (resolved) => {
      toast(`Activation ${resolved.transaction_id.slice(0, 8)} is ${resolved.status}.`);
      await queryClient.invalidateQueries({ queryKey: ['admin'] });
      onDone();
    },
  });
  const error = resolve.error instanceof ApiError ? resolve.error : null;
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    resolve.mutate();
  };
  return (
    <form onSubmit={onSubmit} aria-label={`Resolve activation ${activation.transaction_id}`} noValidate>
      {resolve.error && <Alert>{messageOf(resolve.error)}</Alert>}
      <fieldset>
        <legend>What did the partner say?</legend>
        {!onlyFailed && (
          <label className="radio">
            <input type="radio" name={name} checked={outcome === 'SUCCESS'} onChange={() => setOutcome('SUCCESS')} /> It was provisioned
            (success)
          </label>
        )}
        <label className="radio">
          <input type="radio" name={name} checked={outcome === 'FAILED'} onChange={() => setOutcome('FAILED')} />{' '}
          {onlyFailed ? 'Confirm it was not provisioned (already refunded)' : 'It was not provisioned (fail and refund)'}
        </label>
      </fieldset>
      {outcome === 'SUCCESS' ? (
        <Field
          label="Partner reference"
          value={reference}
          required
          maxLength={255}
          onChange={(e) => setReference(e.target.value)}
          error={error?.fieldMessage('reference')}
        />
      ) : (
        <Field
          label="Reason"
          hint="Shown to the buyer"
          value={reason}
          required
          maxLength={500}
          onChange={(e) => setReason(e.target.value)}
          error={error?.fieldMessage('reason')}
        />
      )}
      <div className="actions">
        <Button type="submit" busy={resolve.isPending}>
          Resolve
        </Button>
        <Button variant="secondary" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

function ActivationItem({ activation }: { activation: Activation }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [resolving, setResolving] = useState(false);
  const item = useFocusOnToggle<HTMLLIElement>(resolving);
  const redrive = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/admin/activations/{id}/redrive/', { params: { path: { id: activation.transaction_id } } })),
    onSuccess: () => {
      toast('Queued now: the worker will try it at once.');
      return queryClient.invalidateQueries({ queryKey: ['admin', 'activations'] });
    },
  });
  const canResolve = activation.needs_review || (activation.maybe_delivered && !isFinished(activation));
  const short = activation.transaction_id.slice(0, 8);
  return (
    <li ref={item} className="card offer-row" aria-labelledby={`act-${activation.transaction_id}`}>
      <h3 id={`act-${activation.transaction_id}`}>
        {activation.offer?.name ?? 'Offer removed'} for {activation.user.username} <StatusPill status={activation.status} />
        {activation.needs_review && <span className="status status-pending">Needs review</span>}
      </h3>
      <Facts
        items={[
          ['Transaction', <span className="mono">{activation.transaction_id}</span>],
          ['Amount', money(activation.amount)],
          ['Partner calls', String(activation.attempts)],
          ['Bought', formatDate(activation.created_at)],
          ...(activation.next_attempt_at ? ([['Next try', formatDate(activation.next_attempt_at)]] as [string, string][]) : []),
          ...(activation.reference ? ([['Reference', activation.reference]] as [string, string][]) : []),
        ]}
      />
      {activation.last_error && (
        <p>
          <strong>Last partner problem:</strong> {activation.last_error}
          {activation.error_code && <span className="muted"> ({activation.error_code})</span>}
        </p>
      )}
      {activation.maybe_delivered && !isFinished(activation) && (
        <p className="warn-text">The partner may have received a call: only its definite answer, the deadline or you settle this one.</p>
      )}
      {redrive.error && <Alert>{messageOf(redrive.error)}</Alert>}
      {resolving ? (
        <ResolveForm activation={activation} onDone={() => setResolving(false)} />
      ) : (
        <div className="actions">
          <Link to={`/admin/users/${activation.user.id}`}>{activation.user.username}’s page</Link>
          {!isFinished(activation) && (
            <Button variant="secondary" busy={redrive.isPending} onClick={() => redrive.mutate()} aria-label={`Redrive activation ${short}`}>
              Redrive
            </Button>
          )}
          {canResolve && (
            <Button onClick={() => setResolving(true)} aria-label={`Resolve activation ${short}`}>
              Resolve
            </Button>
          )}
        </div>
      )}
    </li>
  );
}

export function Activations() {
  const [params, setParams] = useSearchParams();
  const { cursor, setCursor, reset } = useCursor();
  const status = STATUSES.find((s) => s === params.get('status'));
  const review = params.get('needs_review') === 'true';
  const olderThan = params.get('older_than') ?? '';
  const list = useQuery({
    queryKey: ['admin', 'activations', status, review, olderThan, cursor],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/admin/activations/', {
          params: {
            query: {
              limit: 25,
              cursor,
              ...(status ? { status } : {}),
              ...(review ? { needs_review: true } : {}),
              ...(olderThan ? { older_than: olderThan } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
    reset();
  };
  const statusId = useId();
  return (
    <AdminPage title="Activations">
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter activations">
        <div className="field">
          <label htmlFor={statusId}>Status</label>
          <select id={statusId} value={status ?? ''} onChange={(e) => setFilter('status', e.target.value)}>
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <Field
          label="Older than"
          hint="30s, 15m, 2h, 7d"
          value={olderThan}
          onChange={(e) => setFilter('older_than', e.target.value.trim())}
          error={list.error instanceof ApiError ? list.error.fieldMessage('older_than') : undefined}
        />
        <label className="checkbox">
          <input type="checkbox" checked={review} onChange={(e) => setFilter('needs_review', e.target.checked ? 'true' : '')} /> Needing review
          only
        </label>
      </form>
      {review && (
        <Alert kind="info">
          These were refunded at the deadline without a definite answer from the partner, which may have provisioned them. Ask the partner
          by the transaction id (its Idempotency-Key), then confirm each one.
        </Alert>
      )}
      <QueryState query={list}>
        {(page) =>
          page.results.length === 0 ? (
            <p className="empty">No activations match.</p>
          ) : (
            <>
              <p className="muted" aria-live="polite">
                {page.count} {page.count === 1 ? 'activation' : 'activations'}
              </p>
              <ul className="list">
                {page.results.map((activation) => (
                  <ActivationItem key={activation.transaction_id} activation={activation} />
                ))}
              </ul>
              <Pager page={page} onCursor={setCursor} label="Activations" />
            </>
          )
        }
      </QueryState>
    </AdminPage>
  );
}
