// Webhook endpoints: the list and a create form whose answer shows the signing secret, once.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import { ApiError, messageOf } from '../api/errors';
import type { paths } from '../api/schema';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { Field } from '../components/Field';
import { formatDate } from '../format';
import { AdminPage } from './AdminPage';
import { Pager, QueryState, useCursor } from './ui';

type NewEndpoint = NonNullable<paths['/api/v1/admin/webhooks/']['post']['requestBody']>['content']['application/json'];
export type EventChoice = NewEndpoint['events'][number];
type EventType = Exclude<EventChoice, '*'>;

// Keyed by the API's own list of event types: a type added or removed there fails the typecheck here.
const EVENT_TYPES = Object.keys({
  'activation.pending': true,
  'activation.succeeded': true,
  'activation.failed': true,
  'refund.created': true,
  'balance.credited': true,
  'balance.low': true,
  'subscription.activated': true,
  'subscription.extended': true,
  'subscription.expiring': true,
  'subscription.expired': true,
  'subscription.renewal_failed': true,
  'user.disabled': true,
  'user.enabled': true,
  'webhook.endpoint_disabled': true,
} satisfies Record<EventType, true>) as EventType[];

/** A secret the API shows only in this answer: displayed until the admin says it is kept. */
export function SecretOnce({ secret, onDismiss }: { secret: string; onDismiss: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <Alert kind="warning">
      <p>
        <strong>The signing secret, shown only now.</strong> Keep it where the receiver can read it to verify the Offers-Signature header;
        it cannot be shown again (rotate it if it is lost).
      </p>
      <p className="secret" data-testid="webhook-secret">
        {secret}
      </p>
      <div className="actions">
        <Button
          variant="secondary"
          onClick={() =>
            void navigator.clipboard?.writeText(secret).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          {copied ? 'Copied' : 'Copy secret'}
        </Button>
        <Button variant="secondary" onClick={onDismiss}>
          I have kept it
        </Button>
      </div>
    </Alert>
  );
}

function NewEndpointForm() {
  const queryClient = useQueryClient();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [all, setAll] = useState(true);
  const [events, setEvents] = useState<EventType[]>([]);
  const [secret, setSecret] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (body: NewEndpoint) => unwrap(api.POST('/api/v1/admin/webhooks/', { body })),
    onSuccess: (endpoint) => {
      setSecret(endpoint.secret);
      setUrl('');
      setDescription('');
      return queryClient.invalidateQueries({ queryKey: ['admin', 'webhooks'] });
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ url: url.trim(), description, events: all ? ['*'] : events });
  };
  const toggle = (type: EventType, on: boolean) => setEvents((now) => (on ? [...now, type] : now.filter((t) => t !== type)));
  const error = create.error instanceof ApiError ? create.error : null;
  return (
    <>
      {secret && <SecretOnce secret={secret} onDismiss={() => setSecret(null)} />}
      <form className="card form-wide" onSubmit={onSubmit} aria-labelledby="new-endpoint-title" noValidate>
        <h2 id="new-endpoint-title">New endpoint</h2>
        {create.error && <Alert>{messageOf(create.error)}</Alert>}
        <div className="form-grid">
          <Field
            label="URL"
            type="url"
            placeholder="https://example.com/hooks/offers"
            value={url}
            required
            onChange={(e) => setUrl(e.target.value)}
            error={error?.fieldMessage('url')}
          />
          <Field label="Description" value={description} maxLength={500} onChange={(e) => setDescription(e.target.value)} />
          <fieldset className="wide">
            <legend>Events</legend>
            <label className="checkbox">
              <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> All events, including new ones
            </label>
            {!all && (
              <div className="event-grid">
                {EVENT_TYPES.map((type) => (
                  <label key={type} className="checkbox">
                    <input type="checkbox" checked={events.includes(type)} onChange={(e) => toggle(type, e.target.checked)} /> {type}
                  </label>
                ))}
              </div>
            )}
            {error?.fieldMessage('events') && <p className="field-error">{error.fieldMessage('events')}</p>}
          </fieldset>
        </div>
        <div className="actions">
          <Button type="submit" busy={create.isPending}>
            Create endpoint
          </Button>
        </div>
      </form>
    </>
  );
}

export function Webhooks() {
  const { cursor, setCursor } = useCursor();
  const endpoints = useQuery({
    queryKey: ['admin', 'webhooks', cursor],
    queryFn: () => unwrap(api.GET('/api/v1/admin/webhooks/', { params: { query: { limit: 50, cursor } } })),
  });
  return (
    <AdminPage title="Webhooks">
      <NewEndpointForm />
      <h2>Endpoints</h2>
      <QueryState query={endpoints}>
        {(page) =>
          page.results.length === 0 ? (
            <p className="empty">No endpoints yet.</p>
          ) : (
            <>
              <table className="responsive">
                <thead>
                  <tr>
                    <th scope="col">Endpoint</th>
                    <th scope="col">Events</th>
                    <th scope="col">State</th>
                    <th scope="col">Last success</th>
                  </tr>
                </thead>
                <tbody>
                  {page.results.map((endpoint) => (
                    <tr key={endpoint.id}>
                      <td data-label="Endpoint">
                        <Link to={`/admin/webhooks/${endpoint.id}`} className="mono">
                          {endpoint.url}
                        </Link>
                        {endpoint.description && <div className="muted">{endpoint.description}</div>}
                      </td>
                      <td data-label="Events">{endpoint.events.includes('*') ? 'All' : endpoint.events.join(', ')}</td>
                      <td data-label="State">
                        <span className={`status ${endpoint.enabled ? 'status-ok' : 'status-failed'}`}>{endpoint.enabled ? 'Enabled' : 'Disabled'}</span>
                        {endpoint.disabled_reason && <div className="muted">{endpoint.disabled_reason}</div>}
                        {endpoint.failing_since && <div className="warn-text">Failing since {formatDate(endpoint.failing_since)}</div>}
                      </td>
                      <td data-label="Last success">{endpoint.last_success_at ? formatDate(endpoint.last_success_at) : 'Never'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager page={page} onCursor={setCursor} label="Endpoints" />
            </>
          )
        }
      </QueryState>
    </AdminPage>
  );
}
