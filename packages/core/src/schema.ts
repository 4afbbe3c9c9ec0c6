/**
 * JSON Schema validation (ajv) shared by config, plugin options, app.json and API bodies.
 * Errors come back as one `{ field, detail }` a person can act on.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with `exports.default`; under NodeNext the import is the namespace.
const addFormats = (addFormatsModule as unknown as { default: typeof addFormatsModule.default }).default;

/** A shared ajv instance: all errors, defaults applied, strict schemas. */
export const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
addFormats(ajv);

const cache = new WeakMap<object, ValidateFunction>();

/** The first validation problem, named the way a user reads it. */
export interface SchemaProblem {
  /** Dotted path of the offending field, e.g. `plugins[2].options.port`; `(root)` for the top. */
  field: string;
  /** What is wrong, e.g. `must be integer`. */
  detail: string;
}

function pathOf(e: ErrorObject): string {
  const segs = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = '';
  for (const s of segs) out += /^\d+$/.test(s) ? `[${s}]` : out ? `.${s}` : s;
  const missing = (e.params as { missingProperty?: string }).missingProperty;
  const extra = (e.params as { additionalProperty?: string }).additionalProperty;
  // propertyNames failures name the offending key on the error itself.
  const leaf = missing ?? extra ?? (e as { propertyName?: string }).propertyName;
  if (leaf) out = out ? `${out}.${leaf}` : leaf;
  return out || '(root)';
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known field';
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
      return `must match ${String(p.pattern)}`;
    default:
      return e.message ?? 'is invalid';
  }
}

/** Validate `data` (defaults are applied in place); returns the problems, most specific first. */
export function checkSchema(schema: object, data: unknown): SchemaProblem[] {
  let validate = cache.get(schema);
  if (!validate) {
    validate = ajv.compile(schema) as ValidateFunction;
    cache.set(schema, validate);
  }
  if (validate(data)) return [];
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'if' && e.keyword !== 'propertyNames');
  // Deeper paths first: "env.SECRET.generator must be..." helps more than "env must be...".
  errors.sort((a, b) => b.instancePath.length - a.instancePath.length);
  return errors.map((e) => ({ field: pathOf(e), detail: describe(e) }));
}
