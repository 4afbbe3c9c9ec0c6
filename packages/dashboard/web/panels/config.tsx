/** Config vars: values masked until revealed; set, edit and delete (each change is a release). */
import { useState } from 'preact/hooks';
import { api, appPath } from '../api';
import { ErrorLine, Section, useAction } from '../ui';
import { useData } from './use-data';

/** The config vars tab. */
export function ConfigPanel({ app }: { app: string }) {
  const [vars, reload, loadError] = useData<Record<string, string>>(appPath(app, '/config-vars'));
  const [shown, setShown] = useState<Set<string>>(new Set());
  const [editing, setEditing] = useState<{ key: string; value: string } | null>(null);
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [run, busy, error] = useAction(reload);
  const patch = (body: Record<string, string | null>) =>
    run(async () => {
      await api('PATCH', appPath(app, '/config-vars'), body);
      setEditing(null);
    });
  const add = (e: Event) => {
    e.preventDefault();
    void patch({ [key]: value }).then((ok) => {
      if (!ok) return;
      setKey('');
      setValue('');
    });
  };
  const toggle = (k: string) => {
    const s = new Set(shown);
    if (s.has(k)) s.delete(k);
    else s.add(k);
    setShown(s);
  };
  return (
    <Section title="Config vars">
      <ErrorLine error={loadError} />
      <table class="list" data-testid="config">
        <tbody>
          {Object.entries(vars ?? {}).map(([k, v]) => (
            <tr key={k} data-key={k}>
              <td>
                <code>{k}</code>
              </td>
              <td class="value">
                {editing?.key === k ? (
                  <input
                    name={`edit-${k}`}
                    value={editing.value}
                    onInput={(e) => setEditing({ key: k, value: e.currentTarget.value })}
                  />
                ) : shown.has(k) ? (
                  <code>{v}</code>
                ) : (
                  <span class="masked">••••••••</span>
                )}
              </td>
              <td class="row">
                {editing?.key === k ? (
                  <button type="button" disabled={busy} onClick={() => patch({ [k]: editing.value })}>
                    Save
                  </button>
                ) : (
                  <>
                    <button type="button" class="link" onClick={() => toggle(k)}>
                      {shown.has(k) ? 'Hide' : 'Reveal'}
                    </button>
                    <button type="button" class="link" onClick={() => setEditing({ key: k, value: v })}>
                      Edit
                    </button>
                  </>
                )}
                <button
                  type="button"
                  class="link danger"
                  disabled={busy}
                  onClick={() => patch({ [k]: null })}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="row" onSubmit={add}>
        <input
          name="config-key"
          placeholder="KEY"
          value={key}
          required
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        <input
          name="config-value"
          placeholder="value"
          value={value}
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Set
        </button>
      </form>
      <ErrorLine error={error} />
    </Section>
  );
}
