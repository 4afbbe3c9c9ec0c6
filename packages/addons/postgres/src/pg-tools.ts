/**
 * Running PostgreSQL's client programs against a connection without putting the password on a
 * command line (where `ps` shows it): host, port, user and database go in arguments, the
 * password in PGPASSWORD.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { PgConn } from './server.js';

/** `-h -p -U -d` arguments for a connection. */
export function connArgs(c: PgConn): string[] {
  return ['-h', c.host, '-p', String(c.port), '-U', c.user, '-d', c.database];
}

/** Environment for a client program: the password, and no ~/.pgpass or service file surprises. */
export function connEnv(c: PgConn): NodeJS.ProcessEnv {
  return { ...process.env, PGPASSWORD: c.password, PGCONNECT_TIMEOUT: '10', PGSSLMODE: 'prefer' };
}

/** Result of a finished program. */
export interface ToolResult {
  code: number | null;
  stderr: string;
}

/** Run `tool`, collecting stderr (bounded); never throws for a non-zero exit. */
export function runTool(
  tool: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  io: { stdin?: NodeJS.ReadableStream; stdout?: NodeJS.WritableStream } = {},
): { done: Promise<ToolResult>; stdout: NodeJS.ReadableStream | null } {
  const child = spawn(tool, args, {
    env,
    stdio: [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 64 * 1024) stderr += d.toString();
  });
  if (io.stdin && child.stdin) io.stdin.pipe(child.stdin);
  if (io.stdout) child.stdout.pipe(io.stdout);
  const done = new Promise<ToolResult>((resolve) => {
    child.once('error', (e) => resolve({ code: -1, stderr: `${stderr}${e.message}` }));
    child.once('close', (code) => resolve({ code, stderr }));
  });
  return { done, stdout: child.stdout };
}

/**
 * Copy one database into another with `pg_dump -Fc | pg_restore`, objects owned by `ownerRole`
 * in the target (used by plan changes, which move a database to another server).
 */
export async function copyDatabase(
  tools: { pgDump: string; pgRestore: string },
  from: PgConn,
  to: PgConn,
  ownerRole: string,
): Promise<void> {
  const dump = runTool(
    tools.pgDump,
    ['-Fc', '--no-owner', '--no-privileges', ...connArgs(from)],
    connEnv(from),
  );
  const restore = runTool(
    tools.pgRestore,
    ['--no-owner', '--no-privileges', `--role=${ownerRole}`, '--exit-on-error', ...connArgs(to)],
    connEnv(to),
    { stdin: dump.stdout! },
  );
  const [d, r] = await Promise.all([dump.done, restore.done]);
  if (d.code !== 0) throw new Error(`pg_dump exited with ${d.code}: ${d.stderr.trim()}`);
  if (r.code !== 0) throw new Error(`pg_restore exited with ${r.code}: ${r.stderr.trim()}`);
}
