// System: liveness, readiness with each dependency's state, and the queues as the admin API counts
// them: activations by state, and each webhook endpoint's pending and failed deliveries. (/metrics
// has more, but it answers a scraper's token, not an admin's session.)
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import { errorFromResponse } from '../api/errors';
import { AdminPage } from './AdminPage';
import { QueryState } from './ui';

interface Probe {
  httpStatus: number;
  status: string;
  checks?: Record<string, string>;
}

/** /health and /ready answer 503 with a body when not ready: both answers are readings, not errors. */
async function probe(path: '/health' | '/ready'): Promise<Probe> {
  const response = await fetch(path, { cache: 'no-store' });
  const body = (await response.json().catch(() => null)) as { status?: string; checks?: Record<string, string> } | null;
  if (!body?.status) throw await errorFromResponse(response);
  return { httpStatus: response.status, status: body.status, ...(body.checks ? { checks: body.checks } : {}) };
}

const REFRESH_MS = 10_000;

const QUEUES = [
  { key: 'pending', label: 'Pending activations', query: { status: 'PENDING' as const }, link: '/admin/activations?status=PENDING' },
  { key: 'processing', label: 'Processing activations', query: { status: 'PROCESSING' as const }, link: '/admin/activations?status=PROCESSING' },
  {
    key: 'stuck',
    label: 'Processing for over 15 minutes',
    query: { status: 'PROCESSING' as const, older_than: '15m' },
    link: '/admin/activations?status=PROCESSING&older_than=15m',
  },
  { key: 'review', label: 'Needing review', query: { needs_review: true }, link: '/admin/activations?needs_review=true' },
];

function QueueCount({ label, query, link }: (typeof QUEUES)[number]) {
  const count = useQuery({
    queryKey: ['admin', 'activations', 'count', query],
    queryFn: () => unwrap(api.GET('/api/v1/admin/activations/', { params: { query: { ...query, limit: 1 } } })),
    refetchInterval: REFRESH_MS,
  });
  return (
    <li className="card">
      <h3>{label}</h3>
      <QueryState query={count}>
        {(page) => (
          <p className="stat" data-testid={`queue-${label}`}>
            <Link to={link} aria-label={`${page.count} ${label.toLowerCase()}`}>
              {page.count}
            </Link>
          </p>
        )}
      </QueryState>
    </li>
  );
}

function ProbeCard({ title, path }: { title: string; path: '/health' | '/ready' }) {
  const reading = useQuery({ queryKey: ['admin', 'probe', path], queryFn: () => probe(path), refetchInterval: REFRESH_MS, retry: false });
  return (
    <li className="card">
      <h3>
        {title} <span className="muted mono">{path}</span>
      </h3>
      <QueryState query={reading}>
        {(data) => (
          <>
            <p>
              <span className={`status status-${data.httpStatus === 200 ? 'ok' : 'unavailable'}`}>{data.status}</span>{' '}
              <span className="muted">HTTP {data.httpStatus}</span>
            </p>
            {data.checks && (
              <ul className="checks" aria-label={`${title} checks`}>
                {Object.entries(data.checks).map(([name, state]) => (
                  <li key={name}>
                    <span>{name}</span>
                    <span className={`status status-${state === 'ok' ? 'ok' : 'unavailable'}`}>{state}</span>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </QueryState>
    </li>
  );
}

function DeliveryCount({ endpointId, status }: { endpointId: number; status: 'pending' | 'failed' }) {
  const count = useQuery({
    queryKey: ['admin', 'webhooks', endpointId, 'deliveries', 'count', status],
    queryFn: () => unwrap(api.GET('/api/v1/admin/webhooks/{id}/deliveries/', { params: { path: { id: endpointId }, query: { status, limit: 1 } } })),
    refetchInterval: REFRESH_MS,
  });
  return <QueryState query={count}>{(page) => <>{page.count}</>}</QueryState>;
}

/** Per endpoint, the deliveries still to send and those that gave up (the API counts them per endpoint). */
function WebhookQueue() {
  const endpoints = useQuery({
    queryKey: ['admin', 'webhooks', 'system'],
    queryFn: () => unwrap(api.GET('/api/v1/admin/webhooks/', { params: { query: { limit: 50 } } })),
    refetchInterval: REFRESH_MS,
  });
  return (
    <QueryState query={endpoints}>
      {(page) =>
        page.results.length === 0 ? (
          <p className="empty">No webhook endpoints.</p>
        ) : (
          <table className="responsive">
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Pending</th>
                <th scope="col">Failed</th>
              </tr>
            </thead>
            <tbody>
              {page.results.map((endpoint) => (
                <tr key={endpoint.id}>
                  <td data-label="Endpoint">
                    <Link to={`/admin/webhooks/${endpoint.id}`} className="mono">
                      {endpoint.url}
                    </Link>
                    {!endpoint.enabled && <span className="status status-failed">Disabled</span>}
                  </td>
                  <td data-label="Pending">
                    <DeliveryCount endpointId={endpoint.id} status="pending" />
                  </td>
                  <td data-label="Failed">
                    <DeliveryCount endpointId={endpoint.id} status="failed" />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      }
    </QueryState>
  );
}

export function System() {
  return (
    <AdminPage title="System">
      <h2>Health</h2>
      <ul className="grid">
        <ProbeCard title="Liveness" path="/health" />
        <ProbeCard title="Readiness" path="/ready" />
      </ul>
      <h2>Activation queue</h2>
      <p className="muted">Refreshed every {REFRESH_MS / 1000} seconds.</p>
      <ul className="stat-grid">
        {QUEUES.map(({ key, ...queue }) => (
          <QueueCount key={key} {...queue} />
        ))}
      </ul>
      <h2>Webhook deliveries</h2>
      <WebhookQueue />
    </AdminPage>
  );
}
