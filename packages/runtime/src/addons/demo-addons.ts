/**
 * The demo's add-ons: the Node example gets Postgres, Redis and mail, so its /db, /redis and
 * /mail routes have something to talk to. A provider that cannot run here (no server binary)
 * is reported and skipped; the demo goes on without it.
 */
import type { AddonService } from '../addon-service.js';
import type { AppRecord } from '../state/records.js';
import type { SqliteStateStore } from '../state/sqlite-state-store.js';

/** Which examples get which add-on services. */
export const DEMO_ADDONS: Record<string, string[]> = { node: ['postgres', 'redis', 'mail'] };

/** Attach the demo add-ons an example lacks; returns the services attached now or before. */
export async function attachDemoAddons(
  app: AppRecord,
  s: { addons: AddonService; state: SqliteStateStore },
  onLine: (line: string) => void,
): Promise<string[]> {
  const attached: string[] = [];
  for (const service of DEMO_ADDONS[app.name] ?? []) {
    if (s.state.addons(app.id).some((a) => a.service === service)) {
      attached.push(service);
      continue;
    }
    try {
      const rec = await s.addons.create(app, service);
      onLine(`-----> Attached ${service} to ${app.name} (${rec.configVars.join(', ')})`);
      attached.push(service);
    } catch (e) {
      const err = e as Error & { hint?: string };
      onLine(` !     ${service} for ${app.name} skipped: ${err.message.split('\n')[0]}`);
      if (err.hint) onLine(` !     ${err.hint}`);
    }
  }
  return attached;
}

/** The lines that tell where the example's add-on routes are. */
export function demoAddonLines(app: string, url: string, services: string[]): string[] {
  const routes: Record<string, string> = { postgres: '/db', redis: '/redis', mail: '/mail' };
  const lines = services.map((s) => `       ${s.padEnd(9)} ${url}${routes[s] ?? ''}`);
  if (services.includes('mail')) lines.push(`       mail sent by ${app}: slipway mail -a ${app}`);
  return lines;
}
