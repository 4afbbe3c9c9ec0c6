import { expect } from 'chai';
import { isSlipwayError, SlipwayError } from './errors.js';
import { DetectStage } from './hooks.js';
import { KERNEL_VERSION, Kernel } from './kernel.js';
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

describe('Kernel', () => {
  it('has one frozen hook map with every documented hook point', () => {
    const k = new Kernel();
    expect(Object.isFrozen(k.hooks)).to.equal(true);
    expect(Object.keys(k.hooks)).to.have.members([
      'detect',
      'compile',
      'release',
      'provision',
      'planChange',
      'deprovision',
      'route',
      'routeRules',
      'routeRulesChanged',
      'beforeBuild',
      'afterBuild',
      'beforeRelease',
      'afterRelease',
      'dynoStart',
      'dynoExit',
      'log',
      'shutdown',
    ]);
  });

  it('runs detect taps in stage order and the first answer wins', async () => {
    const k = new Kernel();
    const seen: string[] = [];
    const tap = (name: string, stage: number, answer: boolean) =>
      k.hooks.detect.tapPromise({ name, stage }, async () => {
        seen.push(name);
        return answer ? { buildpack: name, name } : undefined;
      });
    tap('fallback', DetectStage.FALLBACK, true);
    tap('lang-no', DetectStage.LANGUAGE, false);
    tap('early', DetectStage.EARLY, false);
    tap('lang-yes', DetectStage.LANGUAGE, true);
    const d = await k.hooks.detect.promise({} as never);
    expect(d?.buildpack).to.equal('lang-yes');
    expect(seen).to.deep.equal(['early', 'lang-no', 'lang-yes']);
  });

  it('threads the release waterfall through taps in order', async () => {
    const k = new Kernel();
    k.hooks.release.tap('a', (spec) => ({ ...spec, processTypes: { ...spec.processTypes, web: 'a' } }));
    k.hooks.release.tapPromise('b', async (spec) => ({
      ...spec,
      processTypes: { ...spec.processTypes, web: 'b', worker: 'b' },
    }));
    const out = await k.hooks.release.promise(
      { processTypes: {}, configDefaults: {}, addons: [] },
      {} as never,
    );
    expect(out.processTypes).to.deep.equal({ web: 'b', worker: 'b' });
  });

  it('keeps route synchronous', () => {
    const k = new Kernel();
    k.hooks.route.tap('maint', (d) =>
      d.kind === 'app' ? { kind: 'respond', status: 503, code: 'H80', body: 'x', app: d.app } : d,
    );
    const r = k.hooks.route.call({ kind: 'app', app: 'a' }, {} as never);
    expect(r).to.include({ kind: 'respond', code: 'H80' });
  });

  it('wraps errors thrown by a tap with the plugin name and the hook', async () => {
    const k = new Kernel();
    k.hooks.compile.for('nodejs').tapPromise('buildpack-nodejs', async () => {
      throw new Error('npm exploded');
    });
    const e = await rejects(k.hooks.compile.for('nodejs').promise({} as never));
    expect(e.code).to.equal('SLIPWAY_ERR_PLUGIN_FAILED');
    expect(e.plugin).to.equal('buildpack-nodejs');
    expect(e.hook).to.equal('compile(nodejs)');
    expect(e.describe()).to.match(
      /^\[buildpack-nodejs compile\(nodejs\)\] compile\(nodejs\) failed: npm exploded/,
    );
    k.hooks.route.tap('bad-router', () => {
      throw new TypeError('boom');
    });
    expect(() => k.hooks.route.call({ kind: 'none' }, {} as never)).to.throw(SlipwayError, /boom/);
  });

  it('keeps the code of a SlipwayError thrown by a plugin and adds its origin', async () => {
    const k = new Kernel();
    k.hooks.provision.for('pg').tapPromise('addon-pg', async () => {
      throw new SlipwayError('SLIPWAY_ERR_PG_DOWN', 'server down');
    });
    const e = await rejects(k.hooks.provision.for('pg').promise({} as never));
    expect(e.code).to.equal('SLIPWAY_ERR_PG_DOWN');
    expect(e.plugin).to.equal('addon-pg');
  });

  it('close() runs every shutdown tap even when one fails, then reports the failure', async () => {
    const k = new Kernel();
    const stopped: string[] = [];
    k.hooks.shutdown.tapPromise('a', async () => {
      stopped.push('a');
      throw new Error('a failed');
    });
    k.hooks.shutdown.tap('b', () => {
      stopped.push('b');
    });
    const e = await rejects(k.close());
    expect(stopped).to.deep.equal(['a', 'b']);
    expect(e.plugin).to.equal('a');
    expect(e.hook).to.equal('shutdown');
  });

  describe('use()', () => {
    it('applies a valid plugin with its options, defaults filled in', async () => {
      const k = new Kernel();
      let got: unknown;
      await k.use(
        definePlugin<{ port: number; host?: string }>({
          name: 'p',
          kernel: `^${KERNEL_VERSION}`,
          optionsSchema: {
            type: 'object',
            properties: { port: { type: 'integer' }, host: { type: 'string', default: '127.0.0.1' } },
          },
          apply: (_k, o) => {
            got = o;
          },
        }),
        { port: 80 },
      );
      expect(got).to.deep.equal({ port: 80, host: '127.0.0.1' });
      expect(k.plugins).to.deep.equal(['p']);
    });

    it('refuses invalid shapes, duplicates, kernel ranges and options with coded errors', async () => {
      const k = new Kernel();
      expect((await rejects(k.use({ apply() {} } as never))).code).to.equal('SLIPWAY_ERR_PLUGIN_INVALID');
      expect((await rejects(k.use({ name: 'x' } as never))).code).to.equal('SLIPWAY_ERR_PLUGIN_INVALID');
      await k.use({ name: 'once', apply() {} });
      expect((await rejects(k.use({ name: 'once', apply() {} }))).code).to.equal(
        'SLIPWAY_ERR_PLUGIN_DUPLICATE',
      );
      const range = await rejects(k.use({ name: 'future', kernel: '>=99', apply() {} }));
      expect(range.code).to.equal('SLIPWAY_ERR_PLUGIN_KERNEL_RANGE');
      expect(range.message).to.contain('>=99').and.contain(KERNEL_VERSION);
      const opt = await rejects(
        k.use(
          {
            name: 'opts',
            optionsSchema: { type: 'object', properties: { port: { type: 'integer' } } },
            apply() {},
          },
          { port: 'eighty' } as never,
          { file: 'slipway.config.json' },
        ),
      );
      expect(opt.code).to.equal('SLIPWAY_ERR_PLUGIN_OPTIONS');
      expect(opt.message).to.equal('plugin opts: option port must be integer');
      expect(opt.hint).to.contain('slipway.config.json');
    });

    it('wraps a failing apply() with the plugin name', async () => {
      const e = await rejects(
        new Kernel().use({ name: 'crashy', apply: () => Promise.reject(new Error('nope')) }),
      );
      expect(e.plugin).to.equal('crashy');
      expect(e.hook).to.equal('apply');
    });
  });

  describe('services', () => {
    interface Greeter {
      greet(): string;
    }
    const greeterRef = createServiceRef<Greeter>('Greeter');

    it('resolves a provided service with its type', () => {
      const k = new Kernel();
      k.provide(greeterRef, { greet: () => 'hi' });
      expect(k.resolve(greeterRef).greet()).to.equal('hi');
    });

    it('keeps kernels apart', () => {
      const a = new Kernel();
      const b = new Kernel();
      a.provide(greeterRef, { greet: () => 'a' });
      expect(b.has(greeterRef)).to.equal(false);
    });

    it('checks plugin needs at ready() and then seals', async () => {
      const k = new Kernel();
      await k.use({ name: 'needy', needs: [greeterRef], apply() {} });
      const e = (() => {
        try {
          k.ready();
        } catch (err) {
          return err;
        }
      })();
      expect(isSlipwayError(e, 'SLIPWAY_ERR_SERVICE_MISSING')).to.equal(true);
      expect((e as Error).message)
        .to.contain('Greeter')
        .and.contain('needy');
      k.provide(greeterRef, { greet: () => 'x' });
      k.ready();
      expect((await rejects(k.use({ name: 'late', apply() {} }))).code).to.equal('SLIPWAY_ERR_KERNEL_SEALED');
    });
  });
});
