/** Formation (scale, restart), dynos, maintenance mode, custom domains and log drains. */
import { useState } from 'preact/hooks';
import { api, appPath } from '../api';
import { ErrorLine, Section, useAction } from '../ui';
import { ListEditor } from './list-editor';
import { useData } from './use-data';

function Formation({ app }: { app: string }) {
  const [formation, reload, loadError] = useData<any[]>(appPath(app, '/formation'));
  const [dynos, reloadDynos] = useData<any[]>(appPath(app, '/dynos'), 3000);
  const [wanted, setWanted] = useState<Record<string, number>>({});
  const [run, busy, error] = useAction();
  const scale = (type: string) =>
    run(async () => {
      await api('PATCH', appPath(app, `/formation/${encodeURIComponent(type)}`), { quantity: wanted[type] });
      await Promise.all([reload(), reloadDynos()]);
    });
  const restart = () =>
    run(async () => {
      await api('DELETE', appPath(app, '/dynos'));
      await reloadDynos();
    });
  return (
    <Section title="Formation">
      <ErrorLine error={loadError} />
      {formation && formation.length === 0 ? (
        <p class="muted">No process types yet: deploy the app.</p>
      ) : null}
      <table class="list" data-testid="formation">
        <tbody>
          {(formation ?? []).map((f) => (
            <tr key={f.type} data-type={f.type}>
              <td>
                <b>{f.type}</b> <code>{f.command}</code>
              </td>
              <td data-testid={`quantity-${f.type}`}>{f.quantity}</td>
              <td class="row">
                <input
                  type="number"
                  min={0}
                  max={100}
                  aria-label={`${f.type} dynos`}
                  name={`scale-${f.type}`}
                  value={wanted[f.type] ?? f.quantity}
                  onInput={(e) => setWanted({ ...wanted, [f.type]: Number(e.currentTarget.value) })}
                />
                <button type="button" disabled={busy} onClick={() => scale(f.type)}>
                  Scale
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="row">
        <button type="button" disabled={busy} onClick={restart}>
          Restart all dynos
        </button>
      </p>
      <ErrorLine error={error} />
      <h3>Dynos</h3>
      <ul data-testid="dynos">
        {(dynos ?? []).map((d) => (
          <li key={d.id}>
            {d.name}: {d.state} (v{d.release.version})
          </li>
        ))}
      </ul>
    </Section>
  );
}

function Maintenance({ app }: { app: string }) {
  const [a, reload] = useData<any>(appPath(app));
  const [run, busy, error] = useAction(reload);
  if (!a) return null;
  const toggle = () => run(() => api('PATCH', appPath(app), { maintenance: !a.maintenance }));
  return (
    <Section title="App">
      <p>
        Web URL:{' '}
        <a href={a.web_url} target="_blank" rel="noreferrer" data-testid="web-url">
          {a.web_url}
        </a>
      </p>
      <p class="row">
        <span data-testid="maintenance">Maintenance mode {a.maintenance ? 'on' : 'off'}</span>
        <button type="button" name="maintenance" disabled={busy} onClick={toggle}>
          {a.maintenance ? 'Turn maintenance off' : 'Turn maintenance on'}
        </button>
      </p>
      <ErrorLine error={error} />
    </Section>
  );
}

/** The overview tab. */
export function OverviewPanel({ app }: { app: string }) {
  return (
    <div class="grid">
      <Formation app={app} />
      <Maintenance app={app} />
      <ListEditor
        app={app}
        title="Domains"
        path="/domains"
        field="hostname"
        label={(d) => d.hostname}
        id={(d) => d.hostname}
        placeholder="www.example.com"
      />
      <ListEditor
        app={app}
        title="Log drains"
        path="/log-drains"
        field="url"
        label={(d) => d.url}
        id={(d) => d.id}
        placeholder="https://logs.example.com/in"
      />
    </div>
  );
}
