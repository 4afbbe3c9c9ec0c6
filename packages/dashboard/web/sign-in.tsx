/** Sign-in form: the API answers with an HttpOnly session cookie and the session's CSRF token. */
import { useState } from 'preact/hooks';
import { api } from './api';
import { ErrorLine, useAction } from './ui';

/** The sign-in page. */
export function SignIn({ onSignedIn }: { onSignedIn: (user: any, csrf: string) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [run, busy, error] = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const s = await api('POST', '/auth/session', { email, password });
      onSignedIn(s.user, s.csrf_token);
    });
  };
  return (
    <main class="narrow">
      <h1>Sign in to Slipway</h1>
      <form onSubmit={submit} class="card stack">
        <label>
          Email
          <input
            name="email"
            type="email"
            autocomplete="username"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorLine error={error} />
      </form>
    </main>
  );
}
