// One activation followed until it settles: the event stream says when it changed, and the status
// is read again then; without the stream (or as a safety net) it is polled.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import { messageOf } from '../api/errors';
import { useLiveEvents } from '../api/live';
import { useRefundOf } from '../api/refunds';
import { Alert } from '../components/Alert';
import { money } from '../format';

const FINAL = new Set(['SUCCESS', 'FAILED']);

export function ActivationProgress({ transactionId, offerName, currency }: { transactionId: string; offerName: string; currency: string }) {
  const { live, subscribe } = useLiveEvents();
  const queryClient = useQueryClient();
  const queryKey = ['activation', transactionId];
  const status = useQuery({
    queryKey,
    queryFn: () => unwrap(api.GET('/api/v1/activation/status/{transaction_id}/', { params: { path: { transaction_id: transactionId } } })),
    refetchInterval: (query) => (query.state.data && FINAL.has(query.state.data.status) ? false : live ? 5000 : 1500),
  });
  const done = status.data && FINAL.has(status.data.status);

  useEffect(
    () =>
      subscribe((event) => {
        if (event.data.transaction_id === transactionId || event.subject === transactionId) {
          void queryClient.invalidateQueries({ queryKey: ['activation', transactionId] });
        }
      }),
    [subscribe, queryClient, transactionId],
  );

  const refund = useRefundOf(transactionId, status.data?.status === 'FAILED');

  if (status.error) return <Alert>{messageOf(status.error)}</Alert>;
  const current = status.data?.status ?? 'PENDING';
  return (
    <div className="progress" data-testid="activation-progress">
      <p aria-live="polite" role="status">
        {offerName}: <span className={`status status-${current}`}>{current}</span>
        {!done && <span className="muted"> {live ? 'Waiting for the partner (live)…' : 'Waiting for the partner (checking every few seconds)…'}</span>}
      </p>
      {!done && <progress aria-label="Activation in progress" />}
      {current === 'SUCCESS' && (
        <Alert kind="success">
          {offerName} is active. {status.data?.reference && <>Reference {status.data.reference}.</>}
        </Alert>
      )}
      {current === 'FAILED' && status.data && (
        <Alert>
          <p>The activation failed: {status.data.error?.message ?? 'the partner refused it'}.</p>
          <p>
            {money(status.data.amount, currency)} {refund.data ? 'was refunded to your balance' : 'is being refunded'}.{' '}
            {refund.data && <Link to={`/history/${refund.data}`}>See the refund</Link>}
          </p>
        </Alert>
      )}
    </div>
  );
}
