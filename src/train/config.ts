/**
 * Presets are typed defaults; `--key value` overrides them. Each value is parsed and checked against the
 * paper's schema, and unknown keys or bad values are refused with a message that lists what is valid.
 */
import type { Config, Field, Schema } from '../../papers/paper.js';

export function describeSchema(schema: Schema, base: Config): string {
  return Object.entries(schema)
    .map(([k, f]) => `  --${k} ${fieldType(f)} (default ${base[k]}): ${f.help}`)
    .join('\n');
}

function fieldType(f: Field): string {
  return f.type === 'choice' ? f.choices.join('|') : f.type;
}

export function applyOverrides<C extends Config>(base: C, overrides: Record<string, string>, schema: Schema<C>): C {
  const out: Config = { ...base };
  for (const [key, raw] of Object.entries(overrides)) {
    const field = (schema as Schema)[key];
    if (field === undefined) {
      throw new Error(`unknown option --${key}; valid options:\n${describeSchema(schema as Schema, base)}`);
    }
    out[key] = parseField(key, raw, field);
  }
  return out as C;
}

/** The largest integer an `int` option takes when its field names no max: counts, sizes and limits stay well below it. */
export const INT_OPTION_MAX = 1e9;

/** A plain decimal integer: optional minus sign, digits (no `+`, exponent, hex, separators or spaces). */
const DECIMAL_INT = /^-?[0-9]+$/;
/** A plain decimal number: `0.1`, `.5`, `-3`, `1e-3`, `2.5E+2` (no hex, `Infinity`, `NaN` or spaces). */
const DECIMAL_FLOAT = /^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/;

/**
 * Parse one `--key value` against its field. Integers must be plain decimal integers within the
 * field's bounds (at most INT_OPTION_MAX when the field names no max); numbers must be finite decimals.
 */
export function parseField(key: string, raw: string, f: Field): number | string | boolean {
  switch (f.type) {
    case 'int':
    case 'float': {
      const isInt = f.type === 'int';
      const v = Number(raw);
      if (!(isInt ? DECIMAL_INT : DECIMAL_FLOAT).test(raw) || !Number.isFinite(v)) {
        throw new Error(`--${key}: expected ${isInt ? 'a decimal integer' : 'a decimal number'}, got ${JSON.stringify(raw)}`);
      }
      const max = f.max ?? (isInt ? INT_OPTION_MAX : undefined);
      if ((f.min !== undefined && v < f.min) || (max !== undefined && v > max)) {
        throw new Error(`--${key}: ${raw} is outside [${f.min ?? '-inf'}, ${max ?? 'inf'}]`);
      }
      return v;
    }
    case 'bool':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new Error(`--${key}: expected true or false, got ${JSON.stringify(raw)}`);
    case 'choice':
      if (!f.choices.includes(raw)) throw new Error(`--${key}: expected one of ${f.choices.join(', ')}, got ${JSON.stringify(raw)}`);
      return raw;
  }
}
