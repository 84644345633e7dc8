import { useState, type FormEvent } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { ApiError, messageOf } from '../api/errors';
import { useSession } from '../auth/session';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { Field } from '../components/Field';
import { Page } from '../components/Page';

/** Where a signed-out visitor was going before being sent to sign in. */
export const returnTo = (state: unknown) =>
  state && typeof state === 'object' && 'from' in state && typeof state.from === 'string' ? state.from : '/';

export function SignIn() {
  const { signIn, notice } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await signIn(String(form.get('username')), String(form.get('password')));
      void navigate(returnTo(location.state), { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const fieldError = (name: string) => (error instanceof ApiError ? error.fieldMessage(name) : undefined);

  return (
    <div className="auth-card">
      <Page title="Sign in">
        {notice && <Alert kind="info">{notice}</Alert>}
        {error !== null && <Alert>{messageOf(error)}</Alert>}
        <form onSubmit={onSubmit} noValidate>
          <Field label="Username" name="username" autoComplete="username" required error={fieldError('username')} />
          <Field label="Password" name="password" type="password" autoComplete="current-password" required error={fieldError('password')} />
          <Button type="submit" busy={busy}>
            Sign in
          </Button>
        </form>
        <p>
          New here? <Link to="/signup">Create an account</Link>
        </p>
      </Page>
    </div>
  );
}
