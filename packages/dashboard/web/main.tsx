/** The dashboard's shell: the session, hash routes (#/ and #/apps/NAME/TAB) and sign-out. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, setCsrf } from './api';
import { AppPage } from './app-page';
import { AppsList } from './apps-list';
import { SignIn } from './sign-in';
import { UsersPage } from './users';
import './style.css';

type User = { email: string; admin: boolean };

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const hash = useHash();
  useEffect(() => {
    const signedOut = () => {
      setCsrf(null);
      setUser(null);
    };
    addEventListener('slipway:signed-out', signedOut);
    return () => removeEventListener('slipway:signed-out', signedOut);
  }, []);
  useEffect(() => {
    api('GET', '/auth/session')
      .then((s) => {
        setCsrf(s.csrf_token);
        setUser(s.user);
      })
      .catch(() => setUser(null));
  }, []);
  if (user === undefined) return <p class="muted">Loading…</p>;
  if (user === null)
    return (
      <SignIn
        onSignedIn={(u, csrf) => {
          setCsrf(csrf);
          setUser(u);
        }}
      />
    );
  const signOut = async () => {
    await api('DELETE', '/auth/session').catch(() => {});
    setCsrf(null);
    setUser(null);
    location.hash = '';
  };
  const m = /^#\/apps\/([^/]+)(?:\/(\w+))?/.exec(hash);
  return (
    <>
      <header class="top">
        <a href="#/" class="brand">
          Slipway
        </a>
        {user.admin ? <a href="#/users">Users</a> : null}
        <span class="muted" data-testid="whoami">
          {user.email}
          {user.admin ? ' (admin)' : ''}
        </span>
        <button type="button" class="link" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        {m ? (
          <AppPage key={m[1]} app={decodeURIComponent(m[1] as string)} tab={m[2] ?? 'overview'} />
        ) : hash === '#/users' ? (
          <UsersPage />
        ) : (
          <AppsList />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
