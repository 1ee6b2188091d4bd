/**
 * The browser page's code and styles. The build bundles src/dashboard-page/ with esbuild into
 * dist/dashboard-page/app.js and app.css (scripts/build-page.mjs), next to the compiled daemon,
 * so an installed package serves them from disk and works offline: nothing is fetched from a
 * CDN. Run from the sources (tsx, tests), the page is bundled in memory on first use instead,
 * with esbuild from the dev dependencies.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The page's bundled script and stylesheet. */
export interface PageAssets {
  js: Buffer;
  css: Buffer;
}

const pageDir = fileURLToPath(new URL('../../dashboard-page/', import.meta.url));

let cached: Promise<PageAssets> | undefined;

/**
 * Loads the built page, or bundles it from the sources when no build is there. Rejects with a
 * message saying to run `npm run build` when neither is possible. The result is cached.
 */
export function loadPageAssets(): Promise<PageAssets> {
  cached ??= load().catch((e: unknown) => {
    cached = undefined;
    throw e;
  });
  return cached;
}

async function load(): Promise<PageAssets> {
  const js = `${pageDir}app.js`;
  const css = `${pageDir}app.css`;
  if (existsSync(js) && existsSync(css)) {
    return { js: readFileSync(js), css: readFileSync(css) };
  }
  const entry = `${pageDir}main.ts`;
  if (!existsSync(entry)) {
    throw new Error(`the dashboard page is not built (${js} is missing): run npm run build`);
  }
  // A specifier in a variable: the compiled package never resolves esbuild unless it gets here.
  const name = 'esbuild';
  const esbuild = (await import(name)) as typeof import('esbuild');
  const result = await esbuild
    .build({
      entryPoints: [entry],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      write: false,
      outdir: pageDir,
      logLevel: 'silent',
      tsconfig: `${pageDir}tsconfig.json`,
    })
    // esbuild keeps a service process for later builds: this was the only one, end it.
    .finally(() => esbuild.stop());
  const pick = (ext: string) => {
    const f = result.outputFiles.find((o) => o.path.endsWith(ext));
    if (!f) throw new Error(`bundling the dashboard page produced no ${ext}`);
    return Buffer.from(f.contents);
  };
  return { js: pick('.js'), css: pick('.css') };
}
