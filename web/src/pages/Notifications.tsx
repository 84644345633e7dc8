// The in-app feed (newest first, more on demand), marking read, and which kinds also go by email.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import { messageOf } from '../api/errors';
import type { Notification, NotificationSettings } from '../api/types';
import { Alert, Loading } from '../components/Alert';
import { Button } from '../components/Button';
import { Page } from '../components/Page';
import { useToast } from '../components/Toasts';
import { formatDate } from '../format';

const KIND_LABELS: Record<string, string> = {
  activation_succeeded: 'An activation succeeded',
  activation_failed: 'An activation failed (with its refund)',
  subscription_expiring: 'An offer is about to expire',
  subscription_expired: 'An offer expired',
  renewal_failed: 'An automatic renewal failed',
  balance_low: 'The balance is running low',
};

function NotificationItem({ notification, onRead, busy }: { notification: Notification; onRead: () => void; busy: boolean }) {
  return (
    <li className={`card notification${notification.read ? '' : ' unread'}`}>
      <h2 className="notification-title">
        {notification.read ? '' : <span className="visually-hidden">Unread: </span>}
        {notification.title}
      </h2>
      <time dateTime={notification.created_at}>{formatDate(notification.created_at)}</time>
      {notification.body.split('\n\n').map((paragraph, index) => (
        <p key={index}>{paragraph}</p>
      ))}
      {!notification.read && (
        <div>
          <Button variant="link" onClick={onRead} busy={busy} aria-label={`Mark as read: ${notification.title}`}>
            Mark as read
          </Button>
        </div>
      )}
    </li>
  );
}

function EmailSettings({ settings }: { settings: NotificationSettings }) {
  const queryClient = useQueryClient();
  const toast = useToast();
  const [error, setError] = useState<unknown>(null);
  const save = useMutation({
    mutationFn: (email: Record<string, boolean>) => unwrap(api.PATCH('/api/v1/account/notification-settings/', { body: { email } })),
    onSuccess: (saved) => {
      queryClient.setQueryData(['notification-settings'], saved);
      setError(null);
      toast('Email settings saved.');
    },
    onError: setError,
  });
  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    save.mutate(Object.fromEntries(Object.keys(settings.email).map((kind) => [kind, form.get(kind) === 'on'])));
  };
  return (
    <form onSubmit={onSubmit}>
      <fieldset>
        <legend>Send me an email when…</legend>
        {Object.entries(settings.email).map(([kind, on]) => (
          <div key={kind} className="check">
            <input id={`email-${kind}`} type="checkbox" name={kind} defaultChecked={on} />
            <label htmlFor={`email-${kind}`}>{KIND_LABELS[kind] ?? kind}</label>
          </div>
        ))}
      </fieldset>
      <p className="muted">
        Emails go to the address in your <Link to="/profile">profile</Link>. The list above always shows everything.
      </p>
      {error !== null && <Alert>{messageOf(error)}</Alert>}
      <div>
        <Button type="submit" busy={save.isPending}>
          Save email settings
        </Button>
      </div>
    </form>
  );
}

export function Notifications() {
  const queryClient = useQueryClient();
  const toast = useToast();
  const feed = useInfiniteQuery({
    queryKey: ['notifications', 'feed'],
    queryFn: ({ pageParam }) => unwrap(api.GET('/api/v1/notifications/', { params: { query: { limit: 20, ...(pageParam ? { cursor: pageParam } : {}) } } })),
    initialPageParam: '',
    getNextPageParam: (last) => last.next ?? undefined,
  });
  const settings = useQuery({ queryKey: ['notification-settings'], queryFn: () => unwrap(api.GET('/api/v1/account/notification-settings/')) });
  const markRead = useMutation({
    mutationFn: (body: { ids: number[] } | { all: true }) => unwrap(api.POST('/api/v1/notifications/read/', { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['notifications'] }),
    onError: (err) => toast(messageOf(err), 'error'),
  });
  const unread = feed.data?.pages[0]?.unread_count ?? 0;
  const items = feed.data?.pages.flatMap((page) => page.results) ?? [];

  return (
    <Page
      title="Notifications"
      actions={
        unread > 0 && (
          <Button variant="secondary" onClick={() => markRead.mutate({ all: true })} busy={markRead.isPending}>
            Mark all as read
          </Button>
        )
      }
    >
      <p className="muted" role="status">
        {unread === 0 ? 'Nothing unread.' : `${unread} unread.`}
      </p>
      {feed.isPending ? (
        <Loading />
      ) : feed.error ? (
        <Alert>{messageOf(feed.error)}</Alert>
      ) : items.length === 0 ? (
        <p className="empty">No notifications yet. Activations, refunds and reminders will show up here.</p>
      ) : (
        <ul className="list">
          {items.map((notification) => (
            <NotificationItem
              key={notification.id}
              notification={notification}
              busy={markRead.isPending}
              onRead={() => markRead.mutate({ ids: [notification.id] })}
            />
          ))}
        </ul>
      )}
      {feed.hasNextPage && (
        <p>
          <Button variant="secondary" onClick={() => void feed.fetchNextPage()} busy={feed.isFetchingNextPage}>
            Show older notifications
          </Button>
        </p>
      )}
      <h2>Email</h2>
      {settings.isPending ? <Loading /> : settings.error ? <Alert>{messageOf(settings.error)}</Alert> : <EmailSettings settings={settings.data} />}
    </Page>
  );
}
