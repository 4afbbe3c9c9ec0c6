/** `logs [-n N] [--tail] [--source S] [--dyno D] [--json]`. */
import type { Command } from 'commander';
import { appVerb, type ClientOptions, clientFor, out, requireApp } from '../api-client.js';
import type { CommandModule } from './index.js';

/** A log line `<time> <source>[<dyno>]: <message>` as an object (`--json`: one per line). */
export function parseLogLine(
  line: string,
): { time: string; source: string; dyno: string; message: string } | undefined {
  const m = /^(\S+) ([^\s[]+)\[([^\]]*)\]: ?(.*)$/s.exec(line);
  if (!m) return undefined;
  return { time: m[1] as string, source: m[2] as string, dyno: m[3] as string, message: m[4] as string };
}

/** The logs verb. */
export const logsCommands: CommandModule = {
  register(program: Command) {
    appVerb(
      program.command('logs').description("show an app's recent log lines, and follow them with --tail"),
    )
      .option('-n, --num <n>', 'number of lines (at most 1500)', '100')
      .option('-t, --tail', 'keep streaming new lines')
      .option('-s, --source <source>', 'only lines from this source (app, slipway)')
      .option('-d, --dyno <dyno>', 'only lines from this dyno or process type (web.1, web, router, api)')
      .addHelpText(
        'after',
        '\nWith --json, each line is one JSON object {time, source, dyno, message} (NDJSON).',
      )
      .action(async (o: ClientOptions & { num: string; tail?: boolean; source?: string; dyno?: string }) => {
        const q = new URLSearchParams({ n: String(Number.parseInt(o.num, 10) || 100) });
        if (o.tail) q.set('tail', '1');
        if (o.source) q.set('source', o.source);
        if (o.dyno) q.set('dyno', o.dyno);
        const ac = new AbortController();
        const stop = () => ac.abort();
        process.once('SIGINT', stop);
        // NDJSON rather than one array: a tail never ends, and each line is useful on its own.
        const print = o.json
          ? (l: string) => out(JSON.stringify(parseLogLine(l) ?? { message: l }))
          : (l: string) => out(l);
        try {
          await clientFor(o).lines(`/apps/${encodeURIComponent(requireApp(o))}/logs?${q}`, print, ac.signal);
        } finally {
          process.off('SIGINT', stop);
        }
      });
  },
};
