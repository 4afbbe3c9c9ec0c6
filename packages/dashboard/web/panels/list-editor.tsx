/** A list of an app's sub-resources with an add form and a remove button per item. */
import { useState } from 'preact/hooks';
import { api, appPath } from '../api';
import { ErrorLine, Section, useAction } from '../ui';
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
  const [value, setValue] = useState('');
  const [run, busy, error] = useAction();
  const add = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await api('POST', appPath(props.app, props.path), { [props.field]: value });
      setValue('');
      await reload();
    });
  };
  const remove = (x: any) =>
    run(async () => {
      await api('DELETE', appPath(props.app, `${props.path}/${encodeURIComponent(props.id(x))}`));
      await reload();
    });
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
      <form class="row" onSubmit={add}>
        <input
          name={props.field}
          placeholder={props.placeholder}
          value={value}
          required
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Add
        </button>
      </form>
      <ErrorLine error={error} />
    </Section>
  );
}
