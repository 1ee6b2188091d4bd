/**
 * `sluice demo` (and `npm run demo`): a guided run of about half a minute through every part,
 * needing nothing but the machine. Each section does real work and says what to notice. Ctrl-C
 * (SIGINT) or SIGTERM cancels the section that runs, every resource made so far is released
 * (processes, the daemon, sockets, temp files), and the command exits 130 (143 for SIGTERM).
 */
import type { Command } from 'commander';
import { type DemoContext, DemoRun } from './demo/context.js';
import { useColor } from './style.js';

interface Section {
  title: string;
  run(ctx: DemoContext): Promise<void>;
}

/** Loaded when the demo runs, so other commands do not pay for importing every part. */
async function loadSections(): Promise<Section[]> {
  return Promise.all([
    import('./demo/pipe-section.js'),
    import('./demo/flow-section.js'),
    import('./demo/supervisor-section.js'),
    import('./demo/sessions-section.js'),
    import('./demo/cluster-section.js'),
  ]);
}

/** Options of `runDemo`. */
export interface DemoOptions {
  /** Smaller data and shorter phases (tests). */
  quick?: boolean;
  /** Only the sections whose title starts with one of these names (pipe, flow, …). */
  only?: string[];
  out?: NodeJS.WriteStream;
}

/**
 * Runs the demo. Resolves with the exit status: 0 when every section ran, 130/143 when
 * interrupted. Rejects only if a section fails, after cleaning up.
 */
export async function runDemo(options: DemoOptions = {}): Promise<number> {
  const out = options.out ?? process.stdout;
  const abort = new AbortController();
  let status = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    status = sig === 'SIGINT' ? 130 : 143;
    out.write(`\n${sig === 'SIGINT' ? '^C ' : ''}interrupted: cleaning up…\n`);
    abort.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const run = new DemoRun({
    signal: abort.signal,
    color: useColor(out),
    quick: options.quick ?? false,
    out,
  });
  const ctx = run.context;
  const started = performance.now();
  try {
    ctx.say(ctx.style('sluice demo', 'bold'));
    ctx.say('Each part of sluice doing real work on this machine. Ctrl-C stops it cleanly.');
    const sections = (await loadSections()).filter(
      (s) => !options.only?.length || options.only.some((name) => s.title.startsWith(name)),
    );
    for (const [i, section] of sections.entries()) {
      if (abort.signal.aborted) break;
      ctx.heading(`${i + 1}/${sections.length} ${section.title}`);
      try {
        await section.run(ctx);
      } catch (error) {
        if (!abort.signal.aborted) throw error;
      }
    }
  } finally {
    await run.cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (status === 0) {
    ctx.say(
      `\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s; nothing left running, no temp files left.`,
    );
  }
  return status;
}

/** Registers `sluice demo`. */
export function register(program: Command): void {
  program
    .command('demo')
    .description('a guided half-minute run of every part of sluice on this machine')
    .option('--quick', 'smaller data and shorter phases')
    .option('--only <sections...>', 'run only these sections: pipe, flow, supervisor, sessions')
    .action(async (opts: { quick?: boolean; only?: string[] }) => {
      process.exitCode = await runDemo({ quick: opts.quick ?? false, only: opts.only ?? [] });
    });
}
