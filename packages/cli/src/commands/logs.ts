/** `logs [-n N] [--tail] [--source S] [--dyno D]`. */
import type { Command } from 'commander';
import { type ClientOptions, clientFor, out, requireApp } from '../api-client.js';
import type { CommandModule } from './index.js';

/** The logs verb. */
export const logsCommands: CommandModule = {
  register(program: Command) {
    program
      .command('logs')
      .description("show an app's recent log lines, and follow them with --tail")
      .option('-a, --app <app>', 'app name')
      .option('-n, --num <n>', 'number of lines (at most 1500)', '100')
      .option('-t, --tail', 'keep streaming new lines')
      .option('-s, --source <source>', 'only lines from this source (app, slipway)')
      .option('-d, --dyno <dyno>', 'only lines from this dyno or process type (web.1, web, router, api)')
      .option('--data-dir <dir>', 'platform data dir holding credentials.json')
      .action(async (o: ClientOptions & { num: string; tail?: boolean; source?: string; dyno?: string }) => {
        const q = new URLSearchParams({ n: String(Number.parseInt(o.num, 10) || 100) });
        if (o.tail) q.set('tail', '1');
        if (o.source) q.set('source', o.source);
        if (o.dyno) q.set('dyno', o.dyno);
        const ac = new AbortController();
        const stop = () => ac.abort();
        process.once('SIGINT', stop);
        try {
          await clientFor(o).lines(
            `/apps/${encodeURIComponent(requireApp(o))}/logs?${q}`,
            (l) => out(l),
            ac.signal,
          );
        } finally {
          process.off('SIGINT', stop);
        }
      });
  },
};
