// Balance, the offers running now (time left, auto-renew) and a banner for those ending soon.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import { messageOf } from '../api/errors';
import type { Subscription } from '../api/types';
import { Alert, Loading } from '../components/Alert';
import { Page } from '../components/Page';
import { Switch } from '../components/Switch';
import { useToast } from '../components/Toasts';
import { formatDate, isExpiringSoon, money, timeLeft } from '../format';

export const accountQuery = { queryKey: ['account'], queryFn: () => unwrap(api.GET('/api/v1/account/')) };
export const subscriptionsQuery = {
  queryKey: ['subscriptions'],
  queryFn: () => unwrap(api.GET('/api/v1/account/subscriptions/', { params: { query: { limit: 200 } } })),
};

function SubscriptionRow({ subscription }: { subscription: Subscription }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const toggle = useMutation({
    mutationFn: (autoRenew: boolean) =>
      unwrap(api.PATCH('/api/v1/account/subscriptions/{id}/', { params: { path: { id: subscription.id } }, body: { auto_renew: autoRenew } })),
    onSuccess: (updated) => {
      toast(`Auto-renew for ${updated.offer.name} is ${updated.auto_renew ? 'on' : 'off'}.`);
      return queryClient.invalidateQueries({ queryKey: ['subscriptions'] });
    },
    onError: (err) => toast(messageOf(err), 'error'),
  });
  const soon = isExpiringSoon(subscription.expires_at);
  return (
    <li className="card subscription">
      <div>
        <h3>{subscription.offer.name}</h3>
        <p className="muted">{subscription.offer.description}</p>
      </div>
      <dl className="facts">
        <div>
          <dt>Time left</dt>
          <dd className={soon ? 'warn-text' : undefined}>{timeLeft(subscription.expires_at)}</dd>
        </div>
        <div>
          <dt>Ends</dt>
          <dd>{formatDate(subscription.expires_at)}</dd>
        </div>
      </dl>
      <Switch
        label={`Auto-renew ${subscription.offer.name}`}
        checked={subscription.auto_renew}
        busy={toggle.isPending}
        onChange={(next) => toggle.mutate(next)}
      />
    </li>
  );
}

export function Dashboard() {
  const account = useQuery(accountQuery);
  const subscriptions = useQuery(subscriptionsQuery);
  const expiring = useQuery({ queryKey: ['subscriptions', 'expiring'], queryFn: () => unwrap(api.GET('/api/v1/offers/expiring/')) });
  const currency = account.data?.currency ?? 'EUR';

  return (
    <Page title="Dashboard">
      {expiring.data && expiring.data.results.length > 0 && (
        <Alert kind="warning">
          <strong>Expiring soon:</strong>{' '}
          {expiring.data.results.map((item) => `${item.offer.name} (${timeLeft(item.expires_at)} left)`).join(', ')}.{' '}
          Turn on auto-renew or <Link to="/offers">buy it again</Link> to keep it.
        </Alert>
      )}
      <div className="card balance-card">
        <h2>Balance</h2>
        {account.isPending ? (
          <Loading />
        ) : account.error ? (
          <Alert>{messageOf(account.error)}</Alert>
        ) : (
          <p className="balance" data-testid="balance">
            {money(account.data.balance, currency)}
          </p>
        )}
        <Link to="/offers" className="button button-primary">
          Browse offers
        </Link>
      </div>
      <h2>Active offers</h2>
      {subscriptions.isPending ? (
        <Loading />
      ) : subscriptions.error ? (
        <Alert>{messageOf(subscriptions.error)}</Alert>
      ) : subscriptions.data.results.length === 0 ? (
        <p className="empty">
          No active offers yet. <Link to="/offers">See the catalogue</Link>.
        </p>
      ) : (
        <ul className="list">
          {subscriptions.data.results.map((subscription) => (
            <SubscriptionRow key={subscription.id} subscription={subscription} />
          ))}
        </ul>
      )}
    </Page>
  );
}
