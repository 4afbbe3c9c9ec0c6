/** Small shared pieces of the dashboard: action buttons with pending/error state, an error line. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from './api';

/** Show an error the way the CLI does: message, then the hint. */
export function ErrorLine({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error as ApiError;
  return (
    <p class="error" role="alert">
      {e.message}
      {e instanceof ApiError && e.hint ? <span class="hint"> {e.hint}</span> : null}
    </p>
  );
}

/**
 * Run an async action, then `after` (reload what it changed); returns [run, busy, error]. `run`
 * resolves to whether the action succeeded (a failure is in `error`).
 */
export function useAction(
  after?: () => Promise<unknown>,
): [(fn: () => Promise<unknown>) => Promise<boolean>, boolean, unknown] {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      await after?.();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return [run, busy, error];
}

/** A one-field form that adds something; the field empties once `onAdd` succeeds. */
export function AddForm(props: {
  name: string;
  placeholder: string;
  submit: string;
  busy: boolean;
  type?: string;
  onAdd: (value: string) => Promise<boolean>;
}) {
  const [value, setValue] = useState('');
  const submit = (e: Event) => {
    e.preventDefault();
    void props.onAdd(value).then((ok) => ok && setValue(''));
  };
  return (
    <form class="row" onSubmit={submit}>
      <input
        name={props.name}
        type={props.type}
        placeholder={props.placeholder}
        value={value}
        required
        onInput={(e) => setValue(e.currentTarget.value)}
      />
      <button type="submit" disabled={props.busy}>
        {props.submit}
      </button>
    </form>
  );
}

/** A titled section of a page. */
export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="card">
      <h2>{title}</h2>
      {children}
    </section>
  );
}
