/** Live logs: a tailing log session, the newest 1000 lines kept on the page. */
import { useEffect, useState } from 'preact/hooks';
import { api, appPath, streamLines } from '../api';
import { ErrorLine, Section } from '../ui';

const KEEP = 1000;

/** The logs tab. */
export function LogsPanel({ app }: { app: string }) {
  const [lines, setLines] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const ctl = new AbortController();
    let acc: string[] = [];
    let pending = false;
    // Bursts of lines are drawn once per frame.
    const flush = () => {
      pending = false;
      setLines(acc.slice());
    };
    void api('POST', appPath(app, '/log-sessions'), { tail: true, lines: 200 })
      .then((s) =>
        streamLines(
          s.logplex_url,
          (l) => {
            acc.push(l);
            if (acc.length > KEEP) acc = acc.slice(-KEEP);
            if (!pending) {
              pending = true;
              requestAnimationFrame(flush);
            }
          },
          ctl.signal,
        ),
      )
      .catch((e) => !ctl.signal.aborted && setError(e));
    return () => ctl.abort();
  }, [app]);
  return (
    <Section title="Logs">
      <ErrorLine error={error} />
      <pre class="output" data-testid="logs">
        {lines.join('\n')}
      </pre>
    </Section>
  );
}
