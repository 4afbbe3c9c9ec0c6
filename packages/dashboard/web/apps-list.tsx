/**
 * The apps the user can see, with their state and web URL, and a form to create one. The
 * render time of the list is marked (`apps-list-rendered`) for the performance test.
 */
import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { api, appPath } from './api';
import { ErrorLine, useAction } from './ui';

type App = {
  name: string;
  web_url: string;
  maintenance: boolean;
  current_release: { version: number } | null;
};

/** A one-word state of an app. */
export function appState(a: App): string {
  if (a.maintenance) return 'maintenance';
  return a.current_release ? 'released' : 'not deployed';
}

/** The apps page. */
export function AppsList() {
  const [apps, setApps] = useState<App[] | null>(null);
  const [name, setName] = useState('');
  const [run, busy, error] = useAction();
  const [loadError, setLoadError] = useState<unknown>(null);
  const load = () =>
    api<App[]>('GET', '/apps')
      .then((list) => {
        performance.mark('apps-list-fetched');
        setApps(list);
      })
      .catch(setLoadError);
  useEffect(() => {
    void load();
  }, []);
  useLayoutEffect(() => {
    if (apps) performance.mark('apps-list-rendered');
  }, [apps]);
  const create = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const a = await api('POST', '/apps', { name });
      location.hash = `#/apps/${encodeURIComponent(a.name)}`;
    });
  };
  return (
    <>
      <h1>Apps</h1>
      <form class="row card" onSubmit={create}>
        <input
          name="app-name"
          placeholder="new-app-name"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          required
        />
        <button type="submit" disabled={busy}>
          Create app
        </button>
        <ErrorLine error={error} />
      </form>
      <ErrorLine error={loadError} />
      {apps === null ? (
        <p class="muted">Loading…</p>
      ) : apps.length === 0 ? (
        <p class="muted">No apps yet.</p>
      ) : (
        <table class="list" data-testid="apps">
          <thead>
            <tr>
              <th>Name</th>
              <th>State</th>
              <th>Release</th>
              <th>Web URL</th>
            </tr>
          </thead>
          <tbody>
            {apps.map((a) => (
              <tr key={a.name} data-app={a.name}>
                <td>
                  <a href={`#${appPath(a.name)}`}>{a.name}</a>
                </td>
                <td class={`state ${appState(a).replace(' ', '-')}`}>{appState(a)}</td>
                <td>{a.current_release ? `v${a.current_release.version}` : '–'}</td>
                <td>
                  <a href={a.web_url} rel="noreferrer" target="_blank">
                    {a.web_url}
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
