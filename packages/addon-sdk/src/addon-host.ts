/**
 * Runs one provider definition: builds its context, calls `setup` once, and wraps provision /
 * plan change / deprovision with what the SDK guarantees — plan and result checks against the
 * manifest, idempotency on `uuid` (persisted), redaction of returned config, and shutdown of
 * supervised processes. Both the in-process plugin and the partner API server sit on it.
 */
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type AddonActionRequest,
  attachmentName,
  checkSchema,
  type DeprovisionRequest,
  type PlanChangeRequest,
  type ProvisionRequest,
  type ProvisionResult,
} from '@slipway/core';
import { checkActionNames } from './actions.js';
import { checkResult } from './config-vars.js';
import type { AddonDefinition, ProviderContext } from './definition.js';
import { manifestOf } from './definition.js';
import { addonErrors } from './errors.js';
import { type AddonManifest, resolvePlan, validateManifest } from './manifest.js';
import { createRedactingLog, generateSecret, type LogWriter, Redactor, stderrWriter } from './redact.js';
import { type ResourceRecord, ResourceStore } from './resource-store.js';
import { unprivileged } from './run-as.js';
import { type Supervised, supervise } from './supervise.js';

/** Where the platform keeps its data when nothing says otherwise. */
export function defaultPlatformDataDir(): string {
  return process.env.SLIPWAY_DATA_DIR ?? join(homedir(), '.slipway', 'data');
}

/** How to host a provider. */
export interface AddonHostOptions {
  /** The platform data dir; the provider gets `<dataDir>/addons/<id>`. */
  dataDir?: string;
  /** The provider's options (validated against its optionsSchema). */
  options?: Record<string, unknown>;
  /** Where redacted log lines go (default stderr). */
  log?: LogWriter;
}

/** A running provider. */
export class AddonHost<O = Record<string, unknown>, S = unknown> {
  /** The validated manifest. */
  readonly manifest: AddonManifest;
  /** Secrets and config values to keep out of logs. */
  readonly redactor = new Redactor();
  /** The context every provider function receives. */
  readonly ctx: ProviderContext<O, S>;
  private readonly store: ResourceStore;
  private readonly children: Supervised[] = [];
  private readonly inflight = new Map<string, Promise<ResourceRecord>>();
  private started: Promise<void> | undefined;
  private state: S | undefined;

  constructor(
    readonly definition: AddonDefinition<O, S>,
    opts: AddonHostOptions = {},
  ) {
    this.manifest = validateManifest(manifestOf(definition), `add-on ${definition.id}`);
    checkActionNames(definition);
    const options: Record<string, unknown> = { ...(opts.options ?? {}) };
    if (definition.optionsSchema) {
      const [p] = checkSchema(definition.optionsSchema, options);
      if (p)
        throw addonErrors.SLIPWAY_ERR_ADDON_MANIFEST({
          where: ` (options of add-on ${definition.id})`,
          field: p.field,
          detail: p.detail,
        });
    }
    const dataDir = join(resolve(opts.dataDir ?? defaultPlatformDataDir()), 'addons', definition.id);
    this.store = new ResourceStore(join(dataDir, '.slipway'));
    const log = createRedactingLog(this.redactor, opts.log ?? stderrWriter(definition.id));
    const host = this;
    this.ctx = {
      id: definition.id,
      dataDir,
      options: options as O,
      log,
      get state() {
        return host.state as S;
      },
      secret: (bytes?: number) => {
        const s = generateSecret(bytes);
        this.redactor.add(s);
        return s;
      },
      runAs: (o = {}) => unprivileged({ ...o, log }),
      supervise: async (o) => {
        const child = await supervise(o, log);
        this.children.push(child);
        return child;
      },
    };
  }

  /** Create the data dir, load the resource store and run `setup` (once). */
  start(): Promise<void> {
    this.started ??= (async () => {
      await mkdir(this.ctx.dataDir, { recursive: true, mode: 0o700 });
      await this.store.load();
      for (const r of this.store.all()) this.redactor.addConfig(r.config);
      if (this.definition.setup)
        this.state = await this.definition.setup(this.ctx as ProviderContext<O, undefined>);
    })();
    return this.started;
  }

  /** Provision (or return the resource already made for this `uuid`); config under declared names. */
  async provision(req: ProvisionRequest): Promise<ResourceRecord> {
    await this.start();
    const plan = resolvePlan(this.manifest, req.plan);
    attachmentName(this.manifest.id, req.name);
    const done = this.store.byUuid(req.uuid);
    if (done) return done;
    const running = this.inflight.get(req.uuid);
    if (running) return running;
    const p = (async () => {
      const raw = await this.definition.provision({ ...req, service: this.manifest.id, plan }, this.ctx);
      const result = checkResult(this.manifest, raw, 'provision', { options: req.options ?? {} });
      this.redactor.addConfig(result.config);
      if (this.store.byId(result.id))
        throw addonErrors.SLIPWAY_ERR_ADDON_RESULT({
          addon: this.manifest.id,
          action: 'provision',
          detail: `id ${result.id} is already used by another resource`,
        });
      const record: ResourceRecord = {
        uuid: req.uuid,
        id: result.id,
        plan,
        app: req.app,
        name: req.name ?? '',
        config: result.config,
        ...(result.message ? { message: result.message } : {}),
        createdAt: new Date().toISOString(),
      };
      await this.store.put(record);
      return record;
    })();
    this.inflight.set(req.uuid, p);
    try {
      return await p;
    } finally {
      this.inflight.delete(req.uuid);
    }
  }

  /** The record of a resource by provider id or platform uuid. */
  find(idOrUuid: string): ResourceRecord | undefined {
    return this.store.byId(idOrUuid) ?? this.store.byUuid(idOrUuid);
  }

  /** True while a provision for `uuid` is running. */
  pending(uuid: string): boolean {
    return this.inflight.has(uuid);
  }

  /** Change a resource's plan; returns the record with its (possibly new) config. */
  async planChange(req: Omit<PlanChangeRequest, 'uuid' | 'app' | 'service'> & Partial<PlanChangeRequest>) {
    await this.start();
    const rec = this.find(req.id) ?? (req.uuid ? this.find(req.uuid) : undefined);
    if (!rec) throw addonErrors.SLIPWAY_ERR_ADDON_UNKNOWN_RESOURCE({ addon: this.manifest.id, id: req.id });
    const plan = resolvePlan(this.manifest, req.plan);
    let config = rec.config;
    let message: string | undefined;
    if (this.definition.planChange) {
      const full: PlanChangeRequest = {
        service: this.manifest.id,
        uuid: rec.uuid,
        app: rec.app,
        id: rec.id,
        plan,
      };
      const raw = await this.definition.planChange(full, this.ctx);
      if (raw) {
        const r: ProvisionResult = checkResult(this.manifest, raw, 'plan change', { expectId: rec.id });
        this.redactor.addConfig(r.config);
        if (Object.keys(r.config).length) config = r.config;
        message = r.message;
      }
    }
    const next: ResourceRecord = { ...rec, plan, config, ...(message ? { message } : {}) };
    await this.store.put(next);
    return next;
  }

  /** Destroy a resource; unknown ids are already gone (deprovision is idempotent). */
  async deprovision(req: { id: string; uuid?: string }): Promise<boolean> {
    await this.start();
    const rec = this.find(req.id) ?? (req.uuid ? this.find(req.uuid) : undefined);
    if (!rec) return false;
    const full: DeprovisionRequest = { service: this.manifest.id, uuid: rec.uuid, app: rec.app, id: rec.id };
    await this.definition.deprovision(full, this.ctx);
    await this.store.remove(rec.uuid);
    return true;
  }

  /**
   * Run one of the provider's actions on one of its resources: the input is checked against the
   * action's schema (defaults applied), and the handler gets the provider's own record.
   */
  async action(name: string, req: AddonActionRequest): Promise<unknown> {
    const action = this.definition.actions?.[name];
    if (!action)
      throw addonErrors.SLIPWAY_ERR_ADDON_ACTION_UNKNOWN({
        addon: this.manifest.id,
        action: name,
        actions: Object.keys(this.definition.actions ?? {}).join(', ') || '(none)',
      });
    await this.start();
    const resource = this.find(req.addon.resource);
    if (!resource)
      throw addonErrors.SLIPWAY_ERR_ADDON_UNKNOWN_RESOURCE({
        addon: this.manifest.id,
        id: req.addon.resource,
      });
    const input = structuredClone(req.input ?? {});
    const [problem] = checkSchema(
      action.inputSchema ?? { type: 'object', additionalProperties: false },
      input,
    );
    if (problem)
      throw addonErrors.SLIPWAY_ERR_ADDON_ACTION_INPUT({
        addon: this.manifest.id,
        action: name,
        field: problem.field,
        detail: problem.detail,
      });
    return await action.run({ ...req, input, resource }, this.ctx);
  }

  /** Stop every supervised process. */
  async close(): Promise<void> {
    await Promise.all(this.children.splice(0).map((c) => c.stop()));
  }
}
