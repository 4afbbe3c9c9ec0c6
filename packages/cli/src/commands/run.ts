/**
 * `run -- CMD…` (attached one-off dyno over the API's WebSocket), `run:detached -- CMD…`
 * (output to the logs). Attached: the local terminal goes raw when stdin
 * is a TTY (Ctrl-C then reaches the dyno's pty as a byte), otherwise Ctrl-C is forwarded as
 * SIGINT; the window size follows `resize`. Like Heroku's CLI, `run` exits 0 unless
 * `--exit-code` asks for the dyno's exit code. Framing: see runtime `oneoff/attach-hub.ts`.
 */
import { SlipwayError } from '@slipway/core';
import type { Command } from 'commander';
import type { RawData } from 'ws';
import {
  type ApiClient,
  appVerb,
  type ClientOptions,
  clientFor,
  out,
  printJson,
  requireApp,
} from '../api-client.js';
import type { CommandModule } from './index.js';

interface RunOptions extends ClientOptions {
  exitCode?: boolean;
  size?: string;
  env?: string;
  tty?: boolean;
  node?: string;
}

/** Parse Heroku's `-e "KEY=value;OTHER=value"`. */
export function parseRunEnv(spec: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  if (!spec) return env;
  for (const pair of spec.split(';')) {
    if (!pair.trim()) continue;
    const i = pair.indexOf('=');
    const key = i > 0 ? pair.slice(0, i).trim() : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))
      throw new SlipwayError('SLIPWAY_ERR_CLI_RUN_ENV', `cannot read "${pair}" of --env`, {
        hint: 'Write --env "KEY=value;OTHER=value" with names of letters, digits and underscores.',
        status: 400,
      });
    env[key] = pair.slice(i + 1);
  }
  return env;
}

function commandOf(words: string[]): string {
  if (!words.length)
    throw new SlipwayError('SLIPWAY_ERR_CLI_RUN_COMMAND', 'no command to run', {
      hint: 'Name it after the app: slipway run -a APP -- bash (or node -e "…").',
      status: 400,
    });
  // Heroku joins the words with spaces; the dyno's shell reads the line.
  return words.join(' ');
}

function body(words: string[], o: RunOptions, attach: boolean, tty?: { columns: number; rows: number }) {
  const env = parseRunEnv(o.env);
  return {
    command: commandOf(words),
    attach,
    ...(o.size ? { size: o.size } : {}),
    ...(Object.keys(env).length ? { env } : {}),
    ...(tty ? { tty } : {}),
    ...(o.node ? { node: o.node } : {}),
  };
}

/** Attach the local terminal to a started dyno; resolves with its exit code. */
export async function attach(url: string, rawTty: boolean): Promise<number> {
  // Loaded by `run` only: every other verb would pay for it at start-up.
  const { WebSocket } = await import('ws');
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const stdin = process.stdin;
    let code: number | undefined;
    const send = (data: Buffer | string) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    };
    const onData = (c: Buffer) => send(Buffer.concat([Buffer.of(0), c]));
    const onEnd = () => send(JSON.stringify({ type: 'eof' }));
    const onSigint = () => send(JSON.stringify({ type: 'signal', signal: 'SIGINT' }));
    const onResize = () =>
      send(JSON.stringify({ type: 'resize', columns: process.stdout.columns, rows: process.stdout.rows }));
    const cleanup = () => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      process.off('SIGINT', onSigint);
      process.stdout.off('resize', onResize);
      if (rawTty && stdin.isTTY) stdin.setRawMode(false);
      stdin.pause();
      // Nothing more is read; a pipe or TTY left open would keep the CLI alive.
      stdin.unref?.();
    };
    ws.on('open', () => {
      if (rawTty && stdin.isTTY) stdin.setRawMode(true);
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdin.resume();
      process.on('SIGINT', onSigint);
      if (rawTty) process.stdout.on('resize', onResize);
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) {
        if (buf[0] === 1) process.stdout.write(buf.subarray(1));
        else if (buf[0] === 2) process.stderr.write(buf.subarray(1));
        return;
      }
      try {
        const msg = JSON.parse(buf.toString('utf8')) as { type?: string; code?: number };
        if (msg.type === 'exit' && typeof msg.code === 'number') code = msg.code;
      } catch {
        // not a control message of ours: ignore
      }
    });
    ws.on('close', () => {
      cleanup();
      if (code === undefined)
        reject(
          new SlipwayError(
            'SLIPWAY_ERR_CLI_RUN_HANGUP',
            'the connection to the dyno closed before it exited',
            {
              hint: 'The platform stopped or hung up the dyno (idle too long?); see `slipway logs -a APP --dyno run`.',
              status: 502,
            },
          ),
        );
      else resolve(code);
    });
    ws.on('error', (e) => {
      cleanup();
      reject(
        new SlipwayError('SLIPWAY_ERR_CLI_RUN_ATTACH', `cannot attach to the dyno at ${url}: ${e.message}`, {
          hint: 'Is the platform reachable, and did the dyno start less than a minute ago?',
          status: 502,
        }),
      );
    });
  });
}

async function start(c: ApiClient, app: string, b: ReturnType<typeof body>) {
  return c.json<{ name: string; attach_url: string | null }>(
    'POST',
    `/apps/${encodeURIComponent(app)}/dynos`,
    b,
  );
}

/** The one-off dyno verbs. */
export const runCommands: CommandModule = {
  register(program: Command) {
    appVerb(
      program
        .command('run')
        .argument('<command...>', 'command to run in the dyno (put it after --)')
        .description('run a one-off dyno attached to this terminal'),
      false,
    )
      .option('-x, --exit-code', "exit with the dyno's exit code")
      .option('-s, --size <size>', 'dyno size (standard-1x, standard-2x, …)')
      .option('-e, --env <pairs>', 'extra environment, "KEY=value;OTHER=value"')
      .option('--node <node>', 'the swarm node to run on (name or id, see `slipway nodes`)')
      .option('--no-tty', 'no pseudo-terminal even when stdin is one')
      .action(async (words: string[], o: RunOptions) => {
        const app = requireApp(o);
        const isTty = o.tty !== false && !!process.stdin.isTTY && !!process.stdout.isTTY;
        const tty = isTty
          ? { columns: process.stdout.columns || 80, rows: process.stdout.rows || 24 }
          : undefined;
        const b = body(words, o, true, tty);
        const d = await start(clientFor(o), app, b);
        process.stderr.write(`Running ${b.command} on ${app}... up, ${d.name}\n`);
        const code = await attach(d.attach_url as string, isTty);
        if (o.exitCode) process.exitCode = code;
      });
    appVerb(
      program
        .command('run:detached')
        .argument('<command...>', 'command to run in the dyno (put it after --)')
        .description('run a one-off dyno whose output goes to the logs'),
    )
      .option('-s, --size <size>', 'dyno size (standard-1x, standard-2x, …)')
      .option('-e, --env <pairs>', 'extra environment, "KEY=value;OTHER=value"')
      .option('--node <node>', 'the swarm node to run on (name or id, see `slipway nodes`)')
      .action(async (words: string[], o: RunOptions) => {
        const app = requireApp(o);
        const b = body(words, o, false);
        const d = await start(clientFor(o), app, b);
        if (printJson(o, d)) return;
        out(`Running ${b.command} on ${app}... up, ${d.name}`);
        out(`Run slipway logs -a ${app} --dyno ${d.name} to view the output.`);
      });
  },
};
