/** The platform's users (admin): add one (a generated password is shown once), remove one. */
import { useState } from 'preact/hooks';
import { api } from './api';
import { useData } from './panels/use-data';
import { AddForm, ErrorLine, Section, useAction } from './ui';

/** The users page. */
export function UsersPage() {
  const [users, reload, loadError] = useData<any[]>('/users');
  const [created, setCreated] = useState<{ email: string; password: string } | null>(null);
  const [run, busy, error] = useAction(reload);
  const add = (email: string) =>
    run(async () => {
      const u = await api('POST', '/users', { email });
      setCreated({ email: u.email, password: u.password });
    });
  const remove = (who: string) => run(() => api('DELETE', `/users/${encodeURIComponent(who)}`));
  return (
    <>
      <h1>Users</h1>
      <Section title="Platform users">
        <ErrorLine error={loadError} />
        <table class="list" data-testid="users">
          <tbody>
            {(users ?? []).map((u) => (
              <tr key={u.id} data-user={u.email}>
                <td>{u.email}</td>
                <td>{u.owner ? 'owner' : u.admin ? 'admin' : 'user'}</td>
                <td>
                  {u.owner ? null : (
                    <button type="button" class="link danger" disabled={busy} onClick={() => remove(u.email)}>
                      Remove
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <AddForm
          name="new-user"
          type="email"
          placeholder="someone@example.com"
          submit="Add user"
          busy={busy}
          onAdd={add}
        />
        {created ? (
          <p data-testid="new-password">
            Password of {created.email}: <code>{created.password}</code> (shown once: pass it on; they change
            it with `slipway passwd`)
          </p>
        ) : null}
        <ErrorLine error={error} />
      </Section>
    </>
  );
}
