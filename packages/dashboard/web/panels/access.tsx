/** Who has access to the app (owner and collaborators), and the app's audit log. */
import { ErrorLine, Section } from '../ui';
import { ListEditor } from './list-editor';
import { useData } from './use-data';

/** The access tab. */
export function AccessPanel({ app }: { app: string }) {
  const [events, , error] = useData<any[]>(`/audit?app=${encodeURIComponent(app)}&n=50`, 5000);
  return (
    <div class="grid">
      <ListEditor
        app={app}
        title="Access"
        path="/collaborators"
        field="user"
        label={(x) => `${x.user.email} (${x.role})`}
        id={(x) => x.user.email}
        placeholder="someone@example.com"
      />
      <Section title="Activity">
        <ErrorLine error={error} />
        <table class="list" data-testid="audit">
          <tbody>
            {(events ?? []).map((e) => (
              <tr key={e.id}>
                <td>{new Date(e.at).toLocaleString()}</td>
                <td>{e.actor ?? '–'}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td class={e.status >= 400 ? 'state failed' : ''}>{e.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </div>
  );
}
