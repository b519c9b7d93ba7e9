/**
 * Where a result comes from (Node only): the library version (from package.json), the git commit and
 * a short description of the machine. Used by ./result.ts and by `pfs --version`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'papers-from-scratch';

/**
 * The library's root directory: the nearest parent of this module holding our package.json (this file
 * runs from src/train when loaded as TypeScript and from dist/src/train when compiled).
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string };
      if (pkg.name === PACKAGE_NAME) return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the package.json of ${PACKAGE_NAME} above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The version field of the library's package.json. */
export function libraryVersion(root = packageRoot()): string {
  return (JSON.parse(fs.readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The commit checked out in `dir` (`git rev-parse HEAD`) and whether tracked files have uncommitted
 * changes; "unknown" and null when `dir` is not a git checkout or git is not installed.
 */
export function gitCommit(dir = packageRoot()): { commit: string; dirty: boolean | null } {
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  try {
    const commit = git('rev-parse', 'HEAD');
    if (!/^[0-9a-f]{40,64}$/.test(commit)) return { commit: 'unknown', dirty: null };
    let dirty: boolean | null = null;
    try {
      dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    } catch {
      // leave it unknown
    }
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: null };
  }
}

/** The software and machine behind a run, as stored in result.json. */
export interface RunInfo {
  version: string;
  /** `git rev-parse HEAD`, or "unknown" outside a git checkout. */
  commit: string;
  /** Uncommitted changes to tracked files; null when unknown. */
  dirty: boolean | null;
  machine: Record<string, string | number>;
}

/** Version, commit and machine of this process. */
export function runInfo(root = packageRoot()): RunInfo {
  const cpus = os.cpus();
  return {
    version: libraryVersion(root),
    ...gitCommit(root),
    machine: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpus: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    },
  };
}
