import { expect } from 'chai';
import { SlipwayError } from './errors.js';
import { Kernel } from './kernel.js';
import { definePlugin } from './plugin.js';
import { createServiceRef } from './services.js';

async function rejects(p: Promise<unknown>): Promise<SlipwayError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(SlipwayError);
    return e as SlipwayError;
  }
  throw new Error('expected a rejection');
}

interface Store {
  kind: string;
}
const storeRef = createServiceRef<Store>('TestStore');
const runnerRef = createServiceRef<{ store: Store }>('TestRunner');

describe('Kernel two-phase plugins', () => {
  it('register is pure; start builds factories in dependency order, then runs starts; close reverses', async () => {
    const events: string[] = [];
    const k = new Kernel();
    await k.use(
      definePlugin({
        name: 'runner',
        register(reg) {
          events.push('register runner');
          // Declared before the store it depends on: order comes from deps, not from listing.
          reg.service({
            ref: runnerRef,
            deps: [storeRef],
            factory: ({ get }) => {
              events.push('build runner');
              return { store: get(storeRef) };
            },
            dispose: () => {
              events.push('dispose runner');
            },
          });
          reg.onStart(() => {
            events.push('start runner');
          });
          reg.onStop(() => {
            events.push('stop runner');
          });
        },
      }),
    );
    await k.use(
      definePlugin({
        name: 'store',
        register(reg) {
          reg.service({
            ref: storeRef,
            factory: () => {
              events.push('build store');
              return { kind: 'default' };
            },
            dispose: () => {
              events.push('dispose store');
            },
          });
        },
        start: ({ kernel }) => {
          events.push(`start store (${kernel.resolve(storeRef).kind})`);
        },
        stop: () => {
          events.push('stop store');
        },
      }),
    );
    expect(events).to.deep.equal(['register runner']);
    await k.start();
    expect(k.resolve(runnerRef).store).to.equal(k.resolve(storeRef));
    await k.close();
    expect(events).to.deep.equal([
      'register runner',
      'build store',
      'build runner',
      'start runner',
      'start store (default)',
      'stop store',
      'stop runner',
      'dispose runner',
      'dispose store',
    ]);
  });

  it('a plugin replaces a default factory, which is then never called', async () => {
    let defaultBuilt = 0;
    const k = new Kernel();
    await k.use(
      definePlugin({
        name: 'defaults',
        register(reg) {
          reg.service({
            ref: storeRef,
            default: true,
            factory: () => {
              defaultBuilt++;
              return { kind: 'default' };
            },
          });
        },
      }),
    );
    await k.use(
      definePlugin({
        name: 'mine',
        register: (reg) => reg.service({ ref: storeRef, factory: () => ({ kind: 'mine' }) }),
      }),
    );
    await k.start();
    expect(k.resolve(storeRef).kind).to.equal('mine');
    expect(defaultBuilt).to.equal(0);
    await k.close();
  });

  it('refuses two non-default factories for one ref, naming both plugins', async () => {
    const k = new Kernel();
    for (const name of ['a', 'b'])
      await k.use(
        definePlugin({
          name,
          register: (reg) => reg.service({ ref: storeRef, factory: () => ({ kind: name }) }),
        }),
      );
    const e = await rejects(k.start());
    expect(e.code).to.equal('SLIPWAY_ERR_SERVICE_CONFLICT');
    expect(e.message).to.include('a and b').and.include('TestStore');
  });

  it('fails at start, before anything is built, when a need or a dep has no provider', async () => {
    let built = 0;
    const k = new Kernel();
    await k.use(
      definePlugin({
        name: 'runner',
        register: (reg) =>
          reg.service({
            ref: runnerRef,
            deps: [storeRef],
            factory: () => {
              built++;
              return { store: { kind: '?' } };
            },
          }),
      }),
    );
    const e = await rejects(k.start());
    expect(e.code).to.equal('SLIPWAY_ERR_SERVICE_MISSING');
    expect(e.message).to.equal(
      'no TestStore service is registered (plugin runner needs it to build TestRunner)',
    );
    expect(built).to.equal(0);

    const k2 = new Kernel();
    await k2.use(definePlugin({ name: 'needy', needs: [storeRef], register: () => {} }));
    const e2 = await rejects(k2.start());
    expect(e2.message).to.equal('no TestStore service is registered (plugin needy needs it)');
  });

  it('a throwing start stops what had started, disposes what was built, and names the plugin', async () => {
    const events: string[] = [];
    const k = new Kernel();
    await k.use(
      definePlugin({
        name: 'first',
        register: (reg) =>
          reg.service({
            ref: storeRef,
            factory: () => ({ kind: 'x' }),
            dispose: () => void events.push('dispose'),
          }),
        start: () => void events.push('start first'),
        stop: () => void events.push('stop first'),
      }),
    );
    await k.use(
      definePlugin({
        name: 'broken',
        register: () => {},
        start: () => {
          throw new Error('port taken');
        },
        stop: () => void events.push('stop broken'),
      }),
    );
    const e = await rejects(k.start());
    expect(e.code).to.equal('SLIPWAY_ERR_PLUGIN_FAILED');
    expect(e.plugin).to.equal('broken');
    expect(e.hook).to.equal('start');
    expect(e.message).to.include('port taken');
    // The broken plugin's own stop runs too: its start may have half-started something.
    expect(events).to.deep.equal(['start first', 'stop broken', 'stop first', 'dispose']);
  });

  it('lists every options problem in one coded error', async () => {
    const k = new Kernel();
    const e = await rejects(
      k.use(
        definePlugin<{ port: number; host: string }>({
          name: 'opts',
          optionsSchema: {
            type: 'object',
            required: ['host'],
            properties: { port: { type: 'integer' }, host: { type: 'string' } },
            additionalProperties: false,
          },
          register: () => {},
        }),
        { port: 'x', extra: 1 } as never,
      ),
    );
    expect(e.code).to.equal('SLIPWAY_ERR_PLUGIN_OPTIONS');
    expect(e.message).to.include('option port must be integer');
    expect(e.message).to.include('option host is required');
    expect(e.message).to.include('option extra is not a known field');
    expect(e.hint).to.include('"port"').and.include('"host"').and.include('"extra"');
  });

  it('starts a plugin added after start at once, and refuses new factories then', async () => {
    const k = new Kernel();
    await k.start();
    let started = false;
    await k.use(
      definePlugin({
        name: 'late',
        register: () => {},
        start: () => {
          started = true;
        },
      }),
    );
    expect(started).to.equal(true);
    const e = await rejects(
      k.use(
        definePlugin({
          name: 'late-service',
          register: (reg) => reg.service({ ref: storeRef, factory: () => ({ kind: 'late' }) }),
        }),
      ),
    );
    expect(e.code).to.equal('SLIPWAY_ERR_KERNEL_SEALED');
    await k.close();
  });

  it('leaves out an optional plugin whose start fails (a platform default), reporting it', async () => {
    const reported: string[] = [];
    let stopped = false;
    const k = new Kernel();
    await k.use(
      definePlugin({
        name: 'flaky-default',
        register(reg) {
          reg.addon({ service: 'flaky', name: 'Flaky', plans: [], configVars: ['FLAKY_URL'] });
          reg.onStart(() => {
            throw new Error('no server binary');
          });
          reg.onStop(() => {
            stopped = true;
          });
        },
      }),
      {},
      { onStartFailed: (e) => reported.push(`${e.plugin}: ${e.message}`) },
    );
    await k.start();
    expect(reported).to.deep.equal(['flaky-default: start failed: no server binary']);
    expect(stopped).to.equal(true);
    expect(k.catalog.addons.has('flaky')).to.equal(false);
    await k.close();
  });

  it('records API route groups and owned tables under the plugin; a second claim on either is refused', async () => {
    const k = new Kernel();
    await k.use(
      definePlugin({
        name: 'drains',
        register(reg) {
          reg.apiRoutes({ name: 'drains', prefix: '/apps/:app/log-drains', routes: () => {} });
          reg.migrations('drains_migrations', ['CREATE TABLE drains (id TEXT)']);
        },
      }),
    );
    expect(k.catalog.apiRoutes.get('drains')).to.include({
      prefix: '/apps/:app/log-drains',
      plugin: 'drains',
    });
    expect(k.catalog.migrations.get('drains_migrations')?.steps).to.deep.equal([
      'CREATE TABLE drains (id TEXT)',
    ]);
    const again = await rejects(
      k.use(
        definePlugin({
          name: 'other',
          register(reg) {
            reg.apiRoutes({ name: 'drains', prefix: '/x', routes: () => {} });
          },
        }),
      ),
    );
    expect(again.code).to.equal('SLIPWAY_ERR_PLUGIN_INVALID');
    expect(again.message).to.include('already declared by plugin drains');
    const badFamily = await rejects(
      k.use(definePlugin({ name: 'bad', register: (reg) => reg.migrations('Drop table;', []) })),
    );
    expect(badFamily.message).to.include('not a lower-case SQL name');
    // A refused plugin declared nothing.
    expect([...k.catalog.apiRoutes.keys()]).to.deep.equal(['drains']);
  });
});
