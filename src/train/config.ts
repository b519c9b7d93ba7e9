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

export function parseField(key: string, raw: string, f: Field): number | string | boolean {
  switch (f.type) {
    case 'int':
    case 'float': {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v) || (f.type === 'int' && !Number.isInteger(v))) {
        throw new Error(`--${key}: expected ${f.type === 'int' ? 'an integer' : 'a number'}, got ${JSON.stringify(raw)}`);
      }
      if ((f.min !== undefined && v < f.min) || (f.max !== undefined && v > f.max)) {
        throw new Error(`--${key}: ${v} is outside [${f.min ?? '-inf'}, ${f.max ?? 'inf'}]`);
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
