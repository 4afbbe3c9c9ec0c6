/** A small real provider for the SDK's own tests: each resource is a directory with a secret. */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddonDefinition } from './definition.js';
import type { LogLevel, LogWriter } from './redact.js';

/** Counts of calls the provider received, to prove idempotency. */
export interface Calls {
  provision: number;
  planChange: number;
  deprovision: number;
}

/** A directory-backed provider `dirkv`; `delayMs` makes provision slow (for async tests). */
export function dirProvider(
  extra: Partial<AddonDefinition<any, any>> & { delayMs?: number } = {},
): AddonDefinition<any, any> & { calls: Calls } {
  const calls: Calls = { provision: 0, planChange: 0, deprovision: 0 };
  const { delayMs = 0, ...rest } = extra;
  return {
    calls,
    id: 'dirkv',
    name: 'Directory KV',
    plans: [{ name: 'small', default: true }, { name: 'large' }],
    configVars: ['DIRKV_URL', 'DIRKV_TOKEN', 'KV_URL'],
    async provision(req, ctx) {
      calls.provision++;
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      const token = ctx.secret();
      const id = `kv-${req.uuid.slice(0, 8)}`;
      const dir = join(ctx.dataDir, id);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'token'), token);
      ctx.log.info(`provisioned ${id} with token ${token}`);
      const url = `http://${id}:${token}@127.0.0.1:7000/${id}`;
      return { id, config: { DIRKV_URL: url, DIRKV_TOKEN: token, KV_URL: url }, message: `${id} ready` };
    },
    planChange(req, ctx) {
      calls.planChange++;
      ctx.log.info(`plan of ${req.id} is now ${req.plan}`);
    },
    async deprovision(req, ctx) {
      calls.deprovision++;
      await rm(join(ctx.dataDir, req.id), { recursive: true, force: true });
    },
    ...rest,
  } as AddonDefinition<any, any> & { calls: Calls };
}

/** A log writer that keeps lines in memory. */
export function captureLog(): { lines: string[]; write: LogWriter } {
  const lines: string[] = [];
  return { lines, write: (level: LogLevel, m: string) => lines.push(`${level}: ${m}`) };
}
