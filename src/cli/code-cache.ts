/**
 * Loads one of the command's CommonJS start-up bundles (dist/cli/sluice-run.cjs,
 * sluice-ls.cjs) the way `require` does, but with V8's code cache written beside it by the build
 * (`FILE.cache`), so the bundle's functions are not compiled again at every start. Used only by
 * the CommonJS bin (scripts/build-cli.mjs wires it in); nothing else imports it.
 *
 * Guarantees: the result is the bundle's `module.exports`, registered in `require.cache` as
 * `require` would; a cache that is missing, unreadable, from another build (its first 64 bytes
 * must be `key`, the SHA-256 the build computed of this bundle) or refused by V8 (another Node
 * version, other V8 flags) only costs the compile it would have saved; nothing is ever written at
 * run time.
 */
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** The bytes before V8's data in a cache file: the hex SHA-256 of the bundle it was made from. */
export const CACHE_KEY_BYTES = 64;

/** What node:module's class offers beyond its public types (stable since Node 0.x). */
interface ModuleInternals {
  new (id: string, parent?: unknown): NodeModule & { paths: string[]; loaded: boolean };
  _cache: Record<string, NodeModule>;
  _nodeModulePaths(dir: string): string[];
  wrap(source: string): string;
}

/** Reads the code cache of `file` if it belongs to the bundle whose hash is `key`. */
function readCache(file: string, key: string): Buffer | undefined {
  try {
    const data = readFileSync(`${file}.cache`);
    if (data.toString('latin1', 0, CACHE_KEY_BYTES) !== key) return undefined;
    return data.subarray(CACHE_KEY_BYTES);
  } catch {
    return undefined;
  }
}

/**
 * The source text V8 compiles for `source`: the same wrapper `require` uses, so that the build's
 * cache (made from this text) matches.
 */
export function wrapForCache(source: string): string {
  return (Module as unknown as ModuleInternals).wrap(source);
}

/**
 * `require(file)` for a bundle built with a code cache under `key`. Throws what `require` would
 * throw for the same file (missing file, an error at load).
 */
export function requireWithCodeCache(file: string, key: string): unknown {
  const M = Module as unknown as ModuleInternals;
  const loaded = M._cache[file];
  if (loaded) return loaded.exports;
  const source = readFileSync(file, 'utf8');
  const script = new Script(wrapForCache(source), {
    filename: file,
    cachedData: readCache(file, key),
  });
  const mod = new M(file, undefined);
  mod.filename = file;
  mod.paths = M._nodeModulePaths(dirname(file));
  M._cache[file] = mod;
  try {
    const body = script.runInThisContext() as (
      exports: unknown,
      require: NodeJS.Require,
      module: NodeModule,
      filename: string,
      dirname: string,
    ) => void;
    body.call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dirname(file));
  } catch (error) {
    delete M._cache[file];
    throw error;
  }
  mod.loaded = true;
  return mod.exports;
}
