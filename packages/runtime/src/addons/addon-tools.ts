/**
 * pg:backups and mail on the platform side: they need the providers' data dirs, which only the
 * platform knows, so the CLI asks the API and these functions call the first-party providers'
 * helpers with the app's own attachment (its DATABASE_URL, its mail resource id).
 */
import { getMessage, listMessages, mailDataDir } from '@slipway/addon-mail';
import {
  type BackupInfo,
  captureBackup,
  type DatabaseInfo,
  databaseInfo,
  listBackups,
  postgresDataDir,
  resetDatabase,
  restoreBackup,
} from '@slipway/addon-postgres';
import { runtimeErrors } from '../errors.js';
import type { AddonRecord, AppRecord } from '../state/records.js';
import type { SqliteStateStore } from '../state/sqlite-state-store.js';

/** Which app attachment to use, and where the platform keeps its data. */
export interface ToolContext {
  state: SqliteStateStore;
  dataDir: string;
}

/** The app's add-on of `service`: the one named `name`, else the only (or first) one. */
export function attachmentOf(ctx: ToolContext, app: AppRecord, service: string, name?: string): AddonRecord {
  const all = ctx.state.addons(app.id).filter((a) => a.service === service);
  const rec = name ? all.find((a) => a.name === name || a.id === name) : all[0];
  if (!rec)
    throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
      what: name ? `${service} add-on ${name} of ${app.name}` : `a ${service} add-on of ${app.name}`,
      hint: `Create one with \`slipway addons:create ${service} -a ${app.name}\`.`,
    });
  return rec;
}

function databaseUrl(ctx: ToolContext, app: AppRecord, name?: string): string {
  const rec = attachmentOf(ctx, app, 'postgres', name);
  const vars = ctx.state.config(app.id);
  const key = rec.configVars.find((k) => k.endsWith('_URL') && k !== 'DATABASE_URL') ?? 'DATABASE_URL';
  const url = vars[key] ?? vars.DATABASE_URL;
  if (!url)
    throw runtimeErrors.SLIPWAY_ERR_RUNTIME_NOT_FOUND({
      what: `${key} of ${app.name}`,
      hint: 'The add-on set it at creation; was it unset? Destroy and re-create the add-on.',
    });
  return url;
}

/** pg:backups */
export function pgBackups(ctx: ToolContext, app: AppRecord, name?: string): Promise<BackupInfo[]> {
  return listBackups({ dataDir: postgresDataDir(ctx.dataDir), databaseUrl: databaseUrl(ctx, app, name) });
}

/** pg:backups:capture */
export function pgCapture(ctx: ToolContext, app: AppRecord, name?: string): Promise<BackupInfo> {
  return captureBackup({ dataDir: postgresDataDir(ctx.dataDir), databaseUrl: databaseUrl(ctx, app, name) });
}

/** pg:backups:restore [backup] (default the latest) */
export function pgRestore(
  ctx: ToolContext,
  app: AppRecord,
  backup?: string,
  name?: string,
): Promise<BackupInfo> {
  return restoreBackup({
    dataDir: postgresDataDir(ctx.dataDir),
    databaseUrl: databaseUrl(ctx, app, name),
    ...(backup ? { backup } : {}),
  });
}

/** pg:info: the database's figures with the add-on's plan and creation time. */
export async function pgInfo(
  ctx: ToolContext,
  app: AppRecord,
  name?: string,
): Promise<DatabaseInfo & { addon: string; plan: string; created_at: string }> {
  const rec = attachmentOf(ctx, app, 'postgres', name);
  const info = await databaseInfo(databaseUrl(ctx, app, name));
  return { addon: rec.name, plan: `${rec.service}:${rec.plan}`, created_at: rec.createdAt, ...info };
}

/** pg:reset: empty the database (the CLI asks for confirmation first). */
export function pgReset(ctx: ToolContext, app: AppRecord, name?: string): Promise<DatabaseInfo> {
  return resetDatabase(databaseUrl(ctx, app, name));
}

/** `mail -a APP`: messages of the app's mail add-on, newest first. */
export function mailList(ctx: ToolContext, app: AppRecord, name?: string) {
  const rec = attachmentOf(ctx, app, 'mail', name);
  return listMessages({ dataDir: mailDataDir(ctx.dataDir), id: rec.providerId });
}

/** `mail MESSAGE_ID -a APP`: one message with bodies. */
export function mailShow(ctx: ToolContext, app: AppRecord, messageId: string, name?: string) {
  const rec = attachmentOf(ctx, app, 'mail', name);
  return getMessage({ dataDir: mailDataDir(ctx.dataDir), id: rec.providerId, messageId });
}
