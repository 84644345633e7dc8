// Who is signed in, the address emails go to, changing the password, and ending every session.
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
  const [passwordError, setPasswordError] = useState<unknown>(null);
  const [mismatch, setMismatch] = useState(false);
  const [changing, setChanging] = useState(false);
  const [changed, setChanged] = useState(false);
  if (!user) return null;

  const onChangePassword = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const current = String(data.get('current_password') ?? '');
    const next = String(data.get('new_password') ?? '');
    setPasswordError(null);
    setChanged(false);
    const differs = next !== String(data.get('confirm_password') ?? '');
    setMismatch(differs);
    if (differs) return;
    setChanging(true);
    try {
      await unwrap(api.POST('/api/v1/auth/password/', { body: { current_password: current, new_password: next } }));
      form.reset();
      setChanged(true);
    } catch (err) {
      setPasswordError(err);
    } finally {
      setChanging(false);
    }
  };
  const passwordFieldError = (field: string) => (passwordError instanceof ApiError ? passwordError.fieldMessage(field) : undefined);

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
      <form onSubmit={onChangePassword} noValidate>
        {passwordError !== null && <Alert>{messageOf(passwordError)}</Alert>}
        {changed && <Alert kind="success">Password changed. Your other sessions have been signed out.</Alert>}
        <Field
          label="Current password"
          name="current_password"
          type="password"
          autoComplete="current-password"
          required
          error={passwordFieldError('current_password')}
        />
        <Field
          label="New password"
          name="new_password"
          type="password"
          autoComplete="new-password"
          required
          hint="At least 8 characters. Every other session is signed out."
          error={passwordFieldError('new_password')}
        />
        <Field
          label="Confirm new password"
          name="confirm_password"
          type="password"
          autoComplete="new-password"
          required
          error={mismatch ? 'The two new passwords do not match.' : undefined}
        />
        <div>
          <Button type="submit" busy={changing}>
            Change password
          </Button>
        </div>
      </form>
      <h2>Sessions</h2>
      <p>Signed in on another device you no longer use? End every session, this one included.</p>
      <Button variant="danger" onClick={onSignOutEverywhere} busy={endingAll}>
        Sign out everywhere
      </Button>
    </Page>
  );
}
