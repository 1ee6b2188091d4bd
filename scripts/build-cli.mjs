#!/usr/bin/env node
// Bundles the `sluice` command (src/cli/main.ts) twice with esbuild, with source maps; `npm run
// build` runs it after tsc. The library entry points (dist/pipe/index.js, …) stay as tsc emits
// them.
//
// - dist/cli/sluice.cjs, the package's `bin`: a small CommonJS file that serves `sluice
//   --version` itself, `sluice run` with dist/cli/sluice-run.cjs and `sluice ls` with
//   dist/cli/sluice-ls.cjs (each one self-contained CommonJS bundle, loaded with `require` only
//   by its command), and hands every other command line to main.js. Node starts a CommonJS
//   program without initialising its ES module loader, and one file needs one read and one
//   compile instead of dozens (module resolution and per-file compile cost more than the work
//   `sluice run 'echo hi | cat'` does).
// - dist/cli/main.js (replacing tsc's), an ES module bundle split at the CLI's dynamic imports
//   into dist/cli/chunk-*.js, so each command loads only its own code: everything else (the
//   daemon, the dashboard, cluster workers, help, completion).
//
// What keeps them right:
// - Packages stay external (`packages: 'external'`): node-pty, koffi, commander, @xterm, @nats-io
//   and the rest are resolved from node_modules at run time, and only where the code loads them.
// - Every output file lands in dist/cli/ itself (no subfolders), and each source module's
//   `import.meta.url` is rewritten to the URL its tsc-emitted twin has in dist/ (for example
//   src/sessions/dashboard/assets.ts sees dist/sessions/dashboard/assets.js), so paths built
//   from it (package.json, the dashboard page, `createRequire`) resolve as in the unbundled
//   build, whichever file the module ends up in.
// - main.ts reads `globalThis.SLUICE_CJS_BIN`, which is defined as a constant here, so each
//   bundle holds only its own branch (the CommonJS one must not pull in ES-only packages).
// - Chunks left by an earlier build are removed first, so dist/ never mixes two builds.
//
// SLUICE_BUILD_META=FILE writes esbuild's metafiles (inputs and outputs of both builds) to FILE.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = `${root}src/`;
const dist = `${root}dist/`;
const outdir = `${dist}cli/`;
const CHUNK = /^chunk-[A-Z0-9]+\.js(\.map)?$/;

/** The path, relative to a file in `outdir`, of the file tsc emits for the source `path`. */
function distTwin(path) {
  const emitted = `${dist}${relative(src, path).replace(/\.ts$/, '.js')}`;
  return relative(outdir, emitted).split('\\').join('/');
}

/** Gives every module of src/ the `import.meta.url` of its tsc-emitted twin in dist/. */
function metaUrlAsInDist(format) {
  return {
    name: 'import-meta-url-as-in-dist',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        if (!args.path.startsWith(src)) return undefined;
        const text = readFileSync(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return { contents: text, loader: 'ts' };
        const twin = JSON.stringify(distTwin(args.path));
        // (CommonJS: a banner defines the folder's URL, since `require` may be shadowed here.)
        const base = format === 'esm' ? 'import.meta.url' : CJS_DIR_URL;
        const url = `new URL(${twin}, ${base}).href`;
        return { contents: text.replaceAll('import.meta.url', url), loader: 'ts' };
      });
    },
  };
}

/**
 * In the CommonJS bin, main.ts's `import('./run.js')` and `import('./sessions/ls.js')` load the
 * separate bundles as `require` would (an `import()` would start the ES module loader after all),
 * through src/cli/code-cache.ts with the V8 code cache made below (`FILE.cache`).
 */
const CJS_COMMANDS = {
  './run.js': { entry: `${src}cli/run.ts`, bundle: 'sluice-run.cjs' },
  './sessions/ls.js': { entry: `${src}cli/sessions/ls.ts`, bundle: 'sluice-ls.cjs' },
};
/** Per bundle file name, the SHA-256 of its text: what its code cache must be made from. */
const cacheKeys = {};
const requireCommandBundles = {
  name: 'require-command-bundles',
  setup(build) {
    build.onResolve({ filter: /^\.\/(run|sessions\/ls)\.js$/ }, (args) => {
      if (args.importer !== `${src}cli/main.ts`) return undefined;
      return { path: CJS_COMMANDS[args.path].bundle, namespace: 'command-bundle' };
    });
    build.onLoad({ filter: /.*/, namespace: 'command-bundle' }, (args) => ({
      contents: [
        `const { requireWithCodeCache } = require(${JSON.stringify(`${src}cli/code-cache.ts`)});`,
        `const file = require("node:path").join(__dirname, ${JSON.stringify(args.path)});`,
        `module.exports = requireWithCodeCache(file, ${JSON.stringify(cacheKeys[args.path])});`,
      ].join('\n'),
      loader: 'js',
      resolveDir: `${src}cli`,
    }));
    build.onResolve({ filter: /^\.\/sluice-[a-z]+\.cjs$/ }, (args) => ({
      path: args.path,
      external: true,
    }));
  },
};

/** The URL of dist/cli/ in the CommonJS bundles, set by their banner. */
const CJS_DIR_URL = '__sluice_cli_dir_url';
const cjsBanner = {
  // Strict as the ES modules they come from (the directive must come first to count).
  js: `"use strict";\nvar ${CJS_DIR_URL} = require("node:url").pathToFileURL(__dirname + "/").href;`,
};

/** What every build shares. */
const common = {
  entryPoints: [`${src}cli/main.ts`],
  bundle: true,
  platform: 'node',
  // The oldest Node sluice supports: syntax it lacks (`using`) is lowered.
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  tsconfig: `${root}tsconfig.build.json`,
  metafile: true,
  logLevel: 'warning',
};

for (const name of readdirSync(outdir)) {
  if (CHUNK.test(name)) rmSync(`${outdir}${name}`);
}

const esm = await esbuild.build({
  ...common,
  format: 'esm',
  splitting: true,
  outdir,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  define: { 'globalThis.SLUICE_CJS_BIN': 'false' },
  plugins: [metaUrlAsInDist('esm')],
});
/**
 * The CommonJS bundles are parsed whole at every start: without whitespace and with shorter
 * syntax that costs a tenth less (names are kept, and the source maps map back).
 */
const compact = { minifyWhitespace: true, minifySyntax: true };

/**
 * Packages the start-up bundles carry inside instead of loading from node_modules: pure
 * JavaScript ones that `sluice ls` loads on every run in many small files (`@msgpack/msgpack`: 26),
 * so they share the bundle's single read and its code cache. Everything else stays external.
 */
const INLINE = new Set(['@msgpack/msgpack']);
const externalExceptInline = {
  name: 'external-except-inline',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      const name = args.path
        .split('/')
        .slice(0, args.path.startsWith('@') ? 2 : 1)
        .join('/');
      return INLINE.has(name) ? undefined : { path: args.path, external: true };
    });
  },
};

/**
 * commander, which every CommonJS bundle uses (the bin for its program, `ls` and `run` for their
 * options), as one bundled file of its own, dist/cli/sluice-commander.cjs: all three `require` that
 * file, so there is one copy of its classes (`instanceof Option`, `CommanderError`) in a process,
 * read from one file instead of six.
 */
const commanderFromBundle = {
  name: 'commander-from-bundle',
  setup(build) {
    build.onResolve({ filter: /^commander$/ }, () => ({
      path: './sluice-commander.cjs',
      external: true,
    }));
  },
};
await esbuild.build({
  ...common,
  ...compact,
  entryPoints: [
    { in: createRequire(import.meta.url).resolve('commander'), out: 'sluice-commander' },
  ],
  format: 'cjs',
  outdir,
  outExtension: { '.js': '.cjs' },
});

const commands = await esbuild.build({
  ...common,
  ...compact,
  packages: undefined,
  entryPoints: Object.values(CJS_COMMANDS).map((c) => ({
    in: c.entry,
    out: c.bundle.replace(/\.cjs$/, ''),
  })),
  format: 'cjs',
  outdir,
  outExtension: { '.js': '.cjs' },
  banner: cjsBanner,
  plugins: [commanderFromBundle, externalExceptInline, metaUrlAsInDist('cjs')],
});

/**
 * The V8 code cache of each start-up bundle, made by running the bundle once in a child process
 * (so the functions a plain `sluice run 'echo hi | cat'`, and `sluice ls` finding no daemon, need
 * are compiled and cached). The file starts with the
 * bundle's SHA-256, which src/cli/code-cache.ts checks: V8 itself only compares lengths.
 */
const MAKE_CACHE = `
const { readFileSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname } = require('node:path');
const { Script } = require('node:vm');
const [file, key, exercise] = process.argv.slice(1);
const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file });
const mod = new Module(file);
mod.filename = file;
mod.paths = Module._nodeModulePaths(dirname(file));
script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, dirname(file));
async function exerciseLs() {
  // \`sluice ls\` against a socket nobody listens on: what the no-daemon case runs.
  const { Command } = Module.createRequire(file)('./sluice-commander.cjs');
  const { mkdtempSync, rmSync } = require('node:fs');
  const dir = mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'sluice-build-'));
  const program = new Command('sluice').exitOverride();
  mod.exports.register(program);
  try {
    await program.parseAsync(['node', 'sluice', 'ls', '--socket', dir + '/none.sock']);
    throw new Error('sluice ls found a daemon at a socket nobody listens on');
  } catch (error) {
    if (!/no sluice daemon answers/.test(String(error))) throw error;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}
const done = exercise === 'ls' ? exerciseLs() : mod.exports.run([exercise], {});
done.then((status) => {
  if (status !== 0) throw new Error('exercising ' + file + ' exited ' + status);
  writeFileSync(file + '.cache', Buffer.concat([Buffer.from(key, 'latin1'), script.createCachedData()]));
});
`;
const EXERCISE = { 'sluice-run.cjs': 'echo hi | cat > /dev/null', 'sluice-ls.cjs': 'ls' };
for (const name of readdirSync(outdir)) {
  if (name.endsWith('.cjs.cache')) rmSync(`${outdir}${name}`);
}
for (const [name, exercise] of Object.entries(EXERCISE)) {
  const file = `${outdir}${name}`;
  cacheKeys[name] = createHash('sha256').update(readFileSync(file)).digest('hex');
  execFileSync(process.execPath, ['-e', MAKE_CACHE, file, cacheKeys[name], exercise], {
    stdio: 'inherit',
  });
}

const cjs = await esbuild.build({
  ...common,
  ...compact,
  format: 'cjs',
  outfile: `${outdir}sluice.cjs`,
  define: { 'globalThis.SLUICE_CJS_BIN': 'true' },
  banner: cjsBanner,
  plugins: [commanderFromBundle, requireCommandBundles, metaUrlAsInDist('cjs')],
});
const outputs = [esm, cjs, commands].flatMap((r) => Object.keys(r.metafile.outputs));
const misplaced = outputs.filter((f) => relative(outdir, `${root}${f}`).includes('/'));
if (misplaced.length > 0) {
  // import.meta.url rewriting assumes every output file sits in outdir itself.
  throw new Error(`build-cli: outputs outside ${outdir}: ${misplaced.join(', ')}`);
}
// A class renamed by the bundler (two modules' classes of one name) would change its errors'
// `name` and the brand that makes `instanceof` work across copies of sluice (src/proc/errors.ts).
const sourceClasses = new Set();
for (const r of [esm, cjs, commands]) {
  for (const input of Object.keys(r.metafile.inputs)) {
    if (!input.startsWith('src/')) continue;
    for (const m of readFileSync(`${root}${input}`, 'utf8').matchAll(/\bclass\s+(\w+)/g)) {
      sourceClasses.add(m[1]);
    }
  }
}
for (const f of outputs.filter((o) => /\.c?js$/.test(o))) {
  const text = readFileSync(`${root}${f}`, 'utf8');
  // `var Foo2 = class {` or `class Foo2 {`: a class whose name is now Foo2 (a named class
  // expression, `var Foo2 = class Foo {`, keeps its name). Only sluice's own classes matter.
  const renamed =
    /\b(?:var|let|const)\s+([A-Z]\w*?)(\d+)\s*=\s*class\b(?!\s+(?!extends\b)\w)|\bclass\s+([A-Z]\w*?)(\d+)\b/g;
  for (const m of text.matchAll(renamed)) {
    const base = m[1] ?? m[3];
    const name = `${base}${m[2] ?? m[4]}`;
    if (sourceClasses.has(base) && !sourceClasses.has(name)) {
      throw new Error(
        `build-cli: ${f} renames the class ${base} to ${name}: give the classes distinct names`,
      );
    }
  }
}
chmodSync(`${outdir}main.js`, 0o755);
chmodSync(`${outdir}sluice.cjs`, 0o755);
if (process.env.SLUICE_BUILD_META) {
  writeFileSync(
    process.env.SLUICE_BUILD_META,
    JSON.stringify({ esm: esm.metafile, cjs: cjs.metafile }),
  );
}
const kib = (r) =>
  Object.entries(r.metafile.outputs)
    .filter(([f]) => f.endsWith('.js') || f.endsWith('.cjs'))
    .reduce((n, [, o]) => n + o.bytes, 0) / 1024;
const chunks = Object.keys(esm.metafile.outputs).filter((f) => f.endsWith('.js')).length;
process.stdout.write(
  `dist/cli/sluice.cjs: ${kib(cjs).toFixed(0)} KiB, sluice-run.cjs and sluice-ls.cjs: ${kib(commands).toFixed(0)} KiB; main.js and ${chunks - 1} chunks: ${kib(esm).toFixed(0)} KiB\n`,
);
