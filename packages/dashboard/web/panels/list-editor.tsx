/** A list of an app's sub-resources with an add form and a remove button per item. */
import { api, appPath } from '../api';
import { AddForm, ErrorLine, Section, useAction } from '../ui';
import { useData } from './use-data';

/** Domains, drains, collaborators: `GET`/`POST path`, `DELETE path/:id`. */
export function ListEditor(props: {
  app: string;
  title: string;
  path: string;
  field: string;
  label: (x: any) => string;
  id: (x: any) => string;
  placeholder: string;
}) {
  const [items, reload] = useData<any[]>(appPath(props.app, props.path));
  const [run, busy, error] = useAction(reload);
  const add = (value: string) =>
    run(() => api('POST', appPath(props.app, props.path), { [props.field]: value }));
  const remove = (x: any) =>
    run(() => api('DELETE', appPath(props.app, `${props.path}/${encodeURIComponent(props.id(x))}`)));
  return (
    <Section title={props.title}>
      <ul>
        {(items ?? []).map((x) => (
          <li key={props.id(x)} class="row">
            <code>{props.label(x)}</code>
            <button type="button" class="link" disabled={busy} onClick={() => remove(x)}>
              Remove
            </button>
          </li>
        ))}
      </ul>
      <AddForm name={props.field} placeholder={props.placeholder} submit="Add" busy={busy} onAdd={add} />
      <ErrorLine error={error} />
    </Section>
  );
}
