// One webhook endpoint: enable/disable, rotate the secret, delete, and its deliveries with their
// attempt log and redelivery.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, unwrap } from '../api/client';
import { messageOf } from '../api/errors';
import type { ResponseOf } from '../api/types';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { Switch } from '../components/Switch';
import { useToast } from '../components/Toasts';
import { formatDate } from '../format';
import { AdminPage } from './AdminPage';
import { Facts, Pager, QueryState, StatusPill, useCursor } from './ui';
import { SecretOnce } from './Webhooks';

type Endpoint = ResponseOf<'/api/v1/admin/webhooks/{id}/', 'get'>;
type Delivery = ResponseOf<'/api/v1/admin/webhooks/{id}/deliveries/', 'get'>['results'][number];
const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const satisfies readonly Delivery['status'][];

function EndpointTools({ endpoint }: { endpoint: Endpoint }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const navigate = useNavigate();
  const [secret, setSecret] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const deleting = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    if (confirmDelete) deleting.current?.querySelector('button')?.focus();
  }, [confirmDelete]);
  const path = { params: { path: { id: endpoint.id } } };
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['admin', 'webhooks'] });
  const enable = useMutation({
    mutationFn: (enabled: boolean) => unwrap(api.PATCH('/api/v1/admin/webhooks/{id}/', { ...path, body: { enabled } })),
    onSuccess: (updated) => {
      toast(updated.enabled ? 'The endpoint is enabled.' : 'The endpoint is disabled: nothing is sent to it.');
      return refresh();
    },
  });
  const rotate = useMutation({
    mutationFn: () => unwrap(api.POST('/api/v1/admin/webhooks/{id}/rotate-secret/', path)),
    onSuccess: (rotated) => {
      setSecret(rotated.secret);
      return refresh();
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/v1/admin/webhooks/{id}/', path)),
    onSuccess: async () => {
      toast('The endpoint and its deliveries are deleted.');
      await refresh();
      await navigate('/admin/webhooks');
    },
  });
  const failure = enable.error ?? rotate.error ?? remove.error;
  return (
    <section aria-labelledby="tools-title">
      <h2 id="tools-title">Settings</h2>
      {failure && <Alert>{messageOf(failure)}</Alert>}
      {secret && <SecretOnce secret={secret} onDismiss={() => setSecret(null)} />}
      <div className="actions">
        <Switch label="Enabled" checked={endpoint.enabled} busy={enable.isPending} onChange={(next) => enable.mutate(next)} />
        <Button variant="secondary" busy={rotate.isPending} onClick={() => rotate.mutate()}>
          Rotate secret
        </Button>
        <span ref={deleting} className="actions">
          {confirmDelete ? (
            <>
              <Button variant="danger" busy={remove.isPending} onClick={() => remove.mutate()}>
                Yes, delete it and its deliveries
              </Button>
              <Button variant="secondary" onClick={() => setConfirmDelete(false)}>
                Keep it
              </Button>
            </>
          ) : (
            <Button variant="danger" onClick={() => setConfirmDelete(true)}>
              Delete endpoint
            </Button>
          )}
        </span>
      </div>
      {endpoint.previous_secret_expires_at && (
        <p className="muted">The previous secret also signs until {formatDate(endpoint.previous_secret_expires_at)}.</p>
      )}
    </section>
  );
}

function DeliveryItem({ endpointId, delivery }: { endpointId: number; delivery: Delivery }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const redeliver = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/admin/webhooks/{id}/deliveries/{deliveryId}/redeliver/', {
          params: { path: { id: endpointId, deliveryId: delivery.id } },
        }),
      ),
    onSuccess: () => {
      toast(`Delivery ${delivery.id} is queued again.`);
      return queryClient.invalidateQueries({ queryKey: ['admin', 'webhooks'] });
    },
  });
  return (
    <li className="card offer-row" aria-labelledby={`delivery-${delivery.id}`}>
      <h3 id={`delivery-${delivery.id}`}>
        {delivery.event_type} <StatusPill status={delivery.status} />
      </h3>
      <Facts
        items={[
          ['Event', <span className="mono">{delivery.event_id}</span>],
          ['Created', formatDate(delivery.created_at)],
          ['Attempts', String(delivery.attempts)],
          ...(delivery.delivered_at ? ([['Delivered', formatDate(delivery.delivered_at)]] as [string, string][]) : []),
          ...(delivery.next_attempt_at ? ([['Next try', formatDate(delivery.next_attempt_at)]] as [string, string][]) : []),
        ]}
      />
      {delivery.attempt_log.length > 0 && (
        <ol className="attempts" aria-label={`Attempts of delivery ${delivery.id}`}>
          {delivery.attempt_log.map((attempt) => (
            <li key={attempt.attempted_at}>
              {formatDate(attempt.attempted_at)}: {attempt.success ? 'delivered' : 'failed'}
              {attempt.http_status !== null && `, HTTP ${attempt.http_status}`}
              {attempt.error && `, ${attempt.error}`} ({attempt.duration_ms} ms)
              {attempt.response_body && <pre className="json">{attempt.response_body}</pre>}
            </li>
          ))}
        </ol>
      )}
      {redeliver.error && <Alert>{messageOf(redeliver.error)}</Alert>}
      <div className="actions">
        <Button variant="secondary" busy={redeliver.isPending} onClick={() => redeliver.mutate()} aria-label={`Redeliver delivery ${delivery.id}`}>
          Redeliver
        </Button>
      </div>
    </li>
  );
}

function Deliveries({ endpointId }: { endpointId: number }) {
  const [status, setStatus] = useState<Delivery['status'] | ''>('');
  const { cursor, setCursor, reset } = useCursor();
  const statusId = useId();
  const deliveries = useQuery({
    queryKey: ['admin', 'webhooks', endpointId, 'deliveries', status, cursor],
    queryFn: () =>
      unwrap(
        api.GET('/api/v1/admin/webhooks/{id}/deliveries/', {
          params: { path: { id: endpointId }, query: { limit: 25, cursor, ...(status ? { status } : {}) } },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
  });
  return (
    <section aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">Deliveries</h2>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter deliveries">
        <div className="field">
          <label htmlFor={statusId}>Status</label>
          <select
            id={statusId}
            value={status}
            onChange={(e) => {
              setStatus(DELIVERY_STATUSES.find((s) => s === e.target.value) ?? '');
              reset();
            }}
          >
            <option value="">Any</option>
            {DELIVERY_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </form>
      <QueryState query={deliveries}>
        {(page) =>
          page.results.length === 0 ? (
            <p className="empty">No deliveries yet.</p>
          ) : (
            <>
              <ul className="list">
                {page.results.map((delivery) => (
                  <DeliveryItem key={delivery.id} endpointId={endpointId} delivery={delivery} />
                ))}
              </ul>
              <Pager page={page} onCursor={setCursor} label="Deliveries" />
            </>
          )
        }
      </QueryState>
    </section>
  );
}

export function WebhookDetail() {
  const id = Number(useParams().id);
  const endpoint = useQuery({
    queryKey: ['admin', 'webhooks', id],
    queryFn: () => unwrap(api.GET('/api/v1/admin/webhooks/{id}/', { params: { path: { id } } })),
    enabled: Number.isInteger(id) && id > 0,
    refetchInterval: 5000,
  });
  return (
    <AdminPage title="Webhook endpoint">
      <p>
        <Link to="/admin/webhooks">← All endpoints</Link>
      </p>
      <QueryState query={endpoint}>
        {(data) => (
          <>
            <p className="mono">{data.url}</p>
            <Facts
              items={[
                ['Events', data.events.includes('*') ? 'All' : data.events.join(', ')],
                ['State', data.enabled ? 'Enabled' : `Disabled${data.disabled_reason ? `: ${data.disabled_reason}` : ''}`],
                ['Last success', data.last_success_at ? formatDate(data.last_success_at) : 'Never'],
                ...(data.failing_since ? ([['Failing since', formatDate(data.failing_since)]] as [string, string][]) : []),
              ]}
            />
            {data.description && <p>{data.description}</p>}
            <EndpointTools endpoint={data} />
            <Deliveries endpointId={data.id} />
          </>
        )}
      </QueryState>
    </AdminPage>
  );
}
