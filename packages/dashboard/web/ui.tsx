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

/** Run an async action; returns [run, busy, error]. */
export function useAction(): [(fn: () => Promise<unknown>) => Promise<void>, boolean, unknown] {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return [run, busy, error];
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
