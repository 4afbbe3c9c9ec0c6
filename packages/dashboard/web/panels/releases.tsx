/** Releases, newest first, with who made each; roll back to an earlier one. */
import { api, appPath } from '../api';
import { ErrorLine, Section, useAction } from '../ui';
import { useData } from './use-data';

/** The releases tab. */
export function ReleasesPanel({ app }: { app: string }) {
  const [releases, reload, loadError] = useData<any[]>(appPath(app, '/releases'), 5000);
  const [run, busy, error] = useAction(reload);
  const rollback = (version: number) =>
    run(() => api('POST', appPath(app, '/releases'), { release: String(version) }));
  return (
    <Section title="Releases">
      <ErrorLine error={loadError} />
      <ErrorLine error={error} />
      <table class="list" data-testid="releases">
        <tbody>
          {(releases ?? [])
            .slice()
            .reverse()
            .map((r) => (
              <tr key={r.id} data-version={r.version}>
                <td>v{r.version}</td>
                <td>{r.description}</td>
                <td>{r.user?.email ?? ''}</td>
                <td class={`state ${r.status}`}>{r.current ? 'current' : r.status}</td>
                <td>{new Date(r.created_at).toLocaleString()}</td>
                <td>
                  {!r.current && r.status === 'succeeded' && r.slug ? (
                    <button type="button" disabled={busy} onClick={() => rollback(r.version)}>
                      Roll back to v{r.version}
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
        </tbody>
      </table>
    </Section>
  );
}
