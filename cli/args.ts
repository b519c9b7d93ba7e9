/**
 * Command-line parsing for `pfs`: positionals, the known flags of each command, and `--key value`
 * overrides for everything else (checked later against the paper's schema).
 */
export interface ParsedArgs {
  positionals: string[];
  /** Known flags with their values (`true` for boolean flags). */
  flags: Record<string, string | true>;
  /** Any other --key value pairs: config overrides. */
  overrides: Record<string, string>;
}

/**
 * `booleanFlags` take no value; `valueFlags` take one. `--key=value` and `--key value` both work;
 * a value-taking option at the end of the line without its value is an error, and so is an option
 * given twice (no silent last-wins).
 */
export function parseArgs(argv: readonly string[], booleanFlags: readonly string[], valueFlags: readonly string[], allowOverrides: boolean): ParsedArgs {
  const out: ParsedArgs = { positionals: [], flags: {}, overrides: {} };
  const seen = new Map<string, string>();
  const once = (key: string, shown: string): void => {
    const before = seen.get(key);
    if (before !== undefined) throw new Error(`--${key} is given twice (${before} and ${shown}); give it once`);
    seen.set(key, shown);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--') || a === '--') {
      out.positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = a.slice(2, eq < 0 ? undefined : eq);
    if (key === '') throw new Error(`bad option ${JSON.stringify(a)}`);
    if (booleanFlags.includes(key)) {
      if (eq >= 0) throw new Error(`--${key} takes no value`);
      once(key, `--${key}`);
      out.flags[key] = true;
      continue;
    }
    if (!valueFlags.includes(key) && !allowOverrides) {
      const known = [...booleanFlags, ...valueFlags].map((f) => `--${f}`).join(', ');
      throw new Error(`unknown option --${key}${known ? `; valid options: ${known}` : ''}`);
    }
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new Error(`--${key} needs a value`);
      value = argv[++i];
    }
    once(key, JSON.stringify(value));
    if (valueFlags.includes(key)) out.flags[key] = value;
    else out.overrides[key] = value;
  }
  return out;
}
