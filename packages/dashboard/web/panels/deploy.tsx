/**
 * Builds: upload a source archive, or watch a build started elsewhere (CLI, git push, API).
 * The newest build's output streams in as it is written.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { appPath, streamLines, upload } from '../api';
import { ErrorLine, Section, useAction } from '../ui';
import { useData } from './use-data';

/** The deploy tab. */
export function DeployPanel({ app }: { app: string }) {
  const [builds, reload] = useData<any[]>(appPath(app, '/builds'), 1500);
  const [lines, setLines] = useState<string[]>([]);
  const [run, busy, error] = useAction(reload);
  const following = useRef<string | null>(null);
  const newest = builds?.length ? builds[builds.length - 1] : null;
  useEffect(() => {
    if (!newest || following.current === newest.id) return;
    following.current = newest.id;
    setLines([]);
    const ctl = new AbortController();
    const acc: string[] = [];
    void streamLines(
      newest.output_stream_url,
      (l) => {
        acc.push(l);
        setLines(acc.slice());
      },
      ctl.signal,
    ).then(() => reload());
    return () => ctl.abort();
  }, [newest?.id]);
  const onFile = (e: Event) => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (file) void run(() => upload(appPath(app, '/builds'), file));
  };
  return (
    <Section title="Deploy">
      <label class="row">
        Deploy a source archive (.tar.gz):
        <input
          type="file"
          name="source"
          accept=".tgz,.tar.gz,application/gzip"
          disabled={busy}
          onChange={onFile}
        />
      </label>
      <ErrorLine error={error} />
      {newest ? (
        <>
          <p>
            Build <code>{newest.id.slice(0, 8)}</code>:{' '}
            <span class={`state ${newest.status}`} data-testid="build-status">
              {newest.status}
            </span>
            {newest.release ? ` → v${newest.release.version}` : ''}
          </p>
          <pre class="output" data-testid="build-output">
            {lines.join('\n')}
          </pre>
        </>
      ) : (
        <p class="muted">No builds yet. Deploy with `slipway deploy`, `git push`, or an archive here.</p>
      )}
    </Section>
  );
}
