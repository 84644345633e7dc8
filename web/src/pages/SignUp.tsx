import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { ApiError, messageOf } from '../api/errors';
import { useSession } from '../auth/session';
import { Alert } from '../components/Alert';
import { Button } from '../components/Button';
import { Field } from '../components/Field';
import { Page } from '../components/Page';

export function SignUp() {
  const { signUp } = useSession();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get('email') ?? '').trim();
    setBusy(true);
    setError(null);
    try {
      await signUp({ username: String(form.get('username')), password: String(form.get('password')), ...(email ? { email } : {}) });
      void navigate('/', { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  const fieldError = (name: string) => (error instanceof ApiError ? error.fieldMessage(name) : undefined);

  return (
    <div className="auth-card">
      <Page title="Create an account">
        {error !== null && <Alert>{messageOf(error)}</Alert>}
        <form onSubmit={onSubmit} noValidate>
          <Field
            label="Username"
            name="username"
            autoComplete="username"
            required
            hint="3–150 letters, digits or _ . @ + -"
            error={fieldError('username')}
          />
          <Field label="Email (optional)" name="email" type="email" autoComplete="email" error={fieldError('email')} />
          <Field
            label="Password"
            name="password"
            type="password"
            autoComplete="new-password"
            required
            hint="At least 8 characters"
            error={fieldError('password')}
          />
          <Button type="submit" busy={busy}>
            Create account
          </Button>
        </form>
        <p>
          Already have an account? <Link to="/signin">Sign in</Link>
        </p>
      </Page>
    </div>
  );
}
