/** Add-ons: create one from a plan, change its plan, destroy it. */
import { useState } from 'preact/hooks';
import { api, appPath } from '../api';
import { AddForm, ErrorLine, Section, useAction } from '../ui';
import { useData } from './use-data';

/** The add-ons tab. */
export function AddonsPanel({ app }: { app: string }) {
  const [addons, reload, loadError] = useData<any[]>(appPath(app, '/addons'));
  const [plans, setPlans] = useState<Record<string, string>>({});
  const [act, busy, error] = useAction(reload);
  return (
    <Section title="Add-ons">
      <ErrorLine error={loadError} />
      <table class="list" data-testid="addons">
        <tbody>
          {(addons ?? []).map((a) => (
            <tr key={a.id} data-addon={a.name}>
              <td>
                <b>{a.name}</b>
              </td>
              <td>{a.plan.name}</td>
              <td>{a.config_vars.join(', ')}</td>
              <td class="row">
                <input
                  name={`plan-${a.name}`}
                  placeholder="new plan"
                  value={plans[a.id] ?? ''}
                  onInput={(e) => setPlans({ ...plans, [a.id]: e.currentTarget.value })}
                />
                <button
                  type="button"
                  disabled={busy || !plans[a.id]}
                  onClick={() =>
                    act(() => api('PATCH', appPath(app, `/addons/${a.id}`), { plan: plans[a.id] }))
                  }
                >
                  Change plan
                </button>
                <button
                  type="button"
                  class="link danger"
                  disabled={busy}
                  onClick={() => act(() => api('DELETE', appPath(app, `/addons/${a.id}`)))}
                >
                  Destroy
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <AddForm
        name="addon-plan"
        placeholder="postgres or redis:small"
        submit="Create add-on"
        busy={busy}
        onAdd={(plan) => act(() => api('POST', appPath(app, '/addons'), { plan }))}
      />
      {busy ? <p class="muted">Working…</p> : null}
      <ErrorLine error={error} />
    </Section>
  );
}
