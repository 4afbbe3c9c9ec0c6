/** Add-ons: create one from a plan, change its plan, destroy it. */
import { useState } from 'preact/hooks';
import { api, appPath } from '../api';
import { ErrorLine, Section, useAction } from '../ui';
import { useData } from './use-data';

/** The add-ons tab. */
export function AddonsPanel({ app }: { app: string }) {
  const [addons, reload, loadError] = useData<any[]>(appPath(app, '/addons'));
  const [plan, setPlan] = useState('');
  const [plans, setPlans] = useState<Record<string, string>>({});
  const [run, busy, error] = useAction();
  const act = (fn: () => Promise<unknown>) =>
    run(async () => {
      await fn();
      await reload();
    });
  const create = (e: Event) => {
    e.preventDefault();
    void act(() => api('POST', appPath(app, '/addons'), { plan })).then(() => setPlan(''));
  };
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
      <form class="row" onSubmit={create}>
        <input
          name="addon-plan"
          placeholder="postgres or redis:small"
          value={plan}
          required
          onInput={(e) => setPlan(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Create add-on
        </button>
      </form>
      {busy ? <p class="muted">Working…</p> : null}
      <ErrorLine error={error} />
    </Section>
  );
}
