/**
 * Which service factories run, and in what order. A plugin's factory replaces another plugin's
 * default for the same ref (the default is then never called); two non-defaults conflict. The
 * chosen factories are ordered so that each one's deps are built first; a dep that no factory
 * and no `provide` supplies fails with the plugin and the ref named, before anything is built.
 */
import { coreErrors } from './errors.js';
import type { ServiceFactory } from './plugin.js';
import type { ServiceRef } from './services.js';

/** A factory and the plugin that declared it. */
export interface DeclaredFactory {
  plugin: string;
  factory: ServiceFactory<unknown>;
}

/** One factory per ref: a plugin's factory wins over a default; two non-defaults throw. */
export function chooseFactories(declared: readonly DeclaredFactory[]): Map<symbol, DeclaredFactory> {
  const chosen = new Map<symbol, DeclaredFactory>();
  for (const d of declared) {
    const token = d.factory.ref.token;
    const prev = chosen.get(token);
    if (!prev || (prev.factory.default && !d.factory.default)) chosen.set(token, d);
    else if (!prev.factory.default && !d.factory.default)
      throw coreErrors.SLIPWAY_ERR_SERVICE_CONFLICT({
        service: d.factory.ref.id,
        first: prev.plugin,
        second: d.plugin,
      });
    // Else: a later default never replaces what is there.
  }
  return chosen;
}

/**
 * The chosen factories in build order (deps first). `provided` tells whether a ref has a value
 * already (`kernel.provide`). Throws SLIPWAY_ERR_SERVICE_MISSING / _CYCLE.
 */
export function buildOrder(
  chosen: Map<symbol, DeclaredFactory>,
  provided: (ref: ServiceRef<unknown>) => boolean,
): DeclaredFactory[] {
  const order: DeclaredFactory[] = [];
  const state = new Map<symbol, 'visiting' | 'done'>();
  const visit = (d: DeclaredFactory, path: string[]) => {
    const token = d.factory.ref.token;
    if (state.get(token) === 'done') return;
    if (state.get(token) === 'visiting')
      throw coreErrors.SLIPWAY_ERR_SERVICE_CYCLE({ cycle: [...path, d.factory.ref.id].join(' → ') });
    state.set(token, 'visiting');
    for (const dep of d.factory.deps ?? []) {
      const next = chosen.get(dep.token);
      if (next) visit(next, [...path, d.factory.ref.id]);
      else if (!provided(dep))
        throw coreErrors.SLIPWAY_ERR_SERVICE_MISSING({
          service: dep.id,
          neededBy: ` (plugin ${d.plugin} needs it to build ${d.factory.ref.id})`,
        });
    }
    state.set(token, 'done');
    order.push(d);
  };
  for (const d of chosen.values()) visit(d, []);
  return order;
}
