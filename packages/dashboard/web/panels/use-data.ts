/** Load a resource, reload it on demand (after a change), and optionally every `pollMs`. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';

/** [data, reload, error] of `GET path`. */
export function useData<T>(path: string, pollMs?: number): [T | null, () => Promise<void>, unknown] {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const reload = () =>
    api<T>('GET', path)
      .then((d) => {
        setData(d);
        setError(null);
      })
      .catch(setError);
  useEffect(() => {
    void reload();
    if (!pollMs) return;
    const t = setInterval(() => void reload(), pollMs);
    return () => clearInterval(t);
  }, [path]);
  return [data, reload, error];
}
