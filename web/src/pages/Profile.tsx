// Who is signed in, the address emails go to, and ending every session.
import { useState, type FormEvent } from 'react';
import { ApiError, messageOf } from '../api/errors';
import { api, unwrap } from '../api/client';
import { useSession } from '../auth/session';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { Field } from '../components/Field';
import { Page } from '../components/Page';
import { useToast } from '../components/Toasts';
import { formatDate } from '../format';

export function Profile() {
  const { user, setUser, signOutEverywhere } = useSession();
  const toast = useToast();
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [endingAll, setEndingAll] = useState(false);
  if (!user) return null;

  const onSave = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const email = String(new FormData(event.currentTarget).get('email') ?? '').trim();
    setSaving(true);
    setError(null);
    try {
      setUser(await unwrap(api.PATCH('/api/v1/auth/profile/', { body: { email: email || null } })));
      toast(email ? 'Email address saved.' : 'Email address removed.');
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  };

  const onSignOutEverywhere = async () => {
    setEndingAll(true);
    try {
      await signOutEverywhere();
    } catch (err) {
      toast(messageOf(err), 'error');
      setEndingAll(false);
    }
  };

  return (
    <Page title="Profile">
      <dl className="summary card profile">
        <dt>Username</dt>
        <dd>{user.username}</dd>
        <dt>Member since</dt>
        <dd>{formatDate(user.date_joined)}</dd>
        {user.is_admin && (
          <>
            <dt>Role</dt>
            <dd>Administrator</dd>
          </>
        )}
      </dl>
      <h2>Email</h2>
      <form onSubmit={onSave} noValidate>
        {error !== null && <Alert>{messageOf(error)}</Alert>}
        <Field
          label="Email address"
          name="email"
          type="email"
          autoComplete="email"
          defaultValue={user.email ?? ''}
          hint="Where notifications are emailed. Leave empty to receive none."
          error={error instanceof ApiError ? error.fieldMessage('email') : undefined}
        />
        <div>
          <Button type="submit" busy={saving}>
            Save email
          </Button>
        </div>
      </form>
      <h2>Password</h2>
      <p className="muted">Changing the password is not offered by the service yet; ask an administrator.</p>
      <h2>Sessions</h2>
      <p>Signed in on another device you no longer use? End every session, this one included.</p>
      <Button variant="danger" onClick={onSignOutEverywhere} busy={endingAll}>
        Sign out everywhere
      </Button>
    </Page>
  );
}
