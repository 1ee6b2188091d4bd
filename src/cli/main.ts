#!/usr/bin/env node
/**
 * The `sluice` command. Each subcommand lives in its own file under src/cli/ and is registered
 * in `commands.ts`; this file only builds the program and maps errors to one line and an exit
 * code: 0 success, 1 failure, 2 usage error (see `sluice --help`).
 *
 * Start-up is kept close to a bare `node`: `sluice --version` and a plain `sluice run …` load no
 * command-line parser at all, `sluice ls` and `sluice daemon` only their own module and commander;
 * every other command line (help, completion, the rest) builds the whole program.
 *
 * Two bundles are built from this file (scripts/build-cli.mjs). The `bin`, dist/cli/sluice.cjs,
 * is CommonJS: Node starts it without initialising its ES module loader, which is a good part of
 * a short command's run. It serves `--version`, `run` and `ls` itself and hands every other
 * command line to the ES module bundle, dist/cli/main.js (the daemon, the dashboard and cluster
 * workers load packages that are ES modules only). The build replaces `SLUICE_CJS_BIN` (below)
 * with a constant so that each bundle holds only its own branch; run from the sources (tsx) it is
 * undefined, which is the ES module path.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';

/** Where the build says which bundle this is (see above); undefined when unbundled. */
interface Build {
  SLUICE_CJS_BIN?: boolean;
}

/** Commander's own codes for a command line that does not parse. */
const USAGE_ERRORS = new Set([
  'commander.unknownOption',
  'commander.unknownCommand',
  'commander.missingArgument',
  'commander.optionMissingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.conflictingOption',
  'commander.excessArguments',
  'commander.invalidArgument',
]);

/** Subcommands whose module is loaded alone when the command line starts with their name. */
const ALONE: Record<string, () => Promise<{ register(program: Command): void }>> = {
  run: () => import('./run.js'),
  ls: () => import('./sessions/ls.js'),
  // The daemon loads only what it serves: a smaller module graph starts faster, holds less
  // memory, and loads under a low fd limit (Node's module loader opens files concurrently, so
  // the whole program's graph fails to load under `ulimit -n 64`).
  // (Not in the CommonJS bin, which hands `daemon` over: the constant keeps it out of that bundle.)
  ...((globalThis as Build).SLUICE_CJS_BIN ? {} : { daemon: () => import('./sessions/daemon.js') }),
};

/** The command lines the CommonJS bin serves itself (after `--version`, which `fast` serves). */
const CJS_BIN_SERVES = new Set(['run', 'ls']);

async function program(argv: readonly string[]): Promise<Command> {
  const first = argv[2];
  const alone = first === undefined ? undefined : ALONE[first];
  const { baseProgram } = await import('./program-base.js');
  if (alone) {
    const p = baseProgram();
    (await alone()).register(p);
    return p;
  }
  if ((first === '--version' || first === '-V') && argv.length === 3) return baseProgram();
  if ((globalThis as Build).SLUICE_CJS_BIN) {
    throw new Error(`the CommonJS bin cannot serve '${first}'`); // main() hands it over first
  } else {
    return (await import('./program.js')).buildProgram();
  }
}

/**
 * The two command lines run most often in loops and scripts skip commander altogether:
 * `sluice --version` and a plain `sluice run …` (anything unusual falls through to commander).
 */
async function fast(argv: readonly string[]): Promise<boolean> {
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as {
      version: string;
    };
    process.stdout.write(`${pkg.version}\n`);
    return true;
  }
  if (argv[2] !== 'run') return false;
  const cli = await import('./run.js');
  const parsed = cli.parseRunArgs(argv.slice(3));
  if (!parsed) return false;
  process.exitCode = await cli.run(parsed.words, parsed.flags);
  return true;
}

/**
 * A reader that closes early (`sluice ls | head -1`, `sluice --help | head`) ends the command
 * quietly with status 0, as it ends `ls` or `git log` (by SIGPIPE, which Node ignores), instead
 * of an unhandled EPIPE: the reader has everything it asked for. Any other write error is a
 * failure with its one line.
 *
 * The handler is attached when something first reads `process.stdout`, not before: making the
 * stream costs ~5 ms (its modules load), and `sluice run` never writes to it (its commands
 * write to the inherited fd 1 themselves).
 */
function endQuietlyWhenTheReaderCloses(): void {
  const attach = (stdout: NodeJS.WriteStream): void => {
    stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      process.stderr.write(`sluice: cannot write to stdout: ${error.message}\n`);
      process.exit(1);
    });
  };
  const own = Object.getOwnPropertyDescriptor(process, 'stdout');
  const get = own?.get;
  if (!own || !get || !own.configurable) {
    attach(process.stdout);
    return;
  }
  Object.defineProperty(process, 'stdout', {
    configurable: true,
    enumerable: own.enumerable,
    get() {
      Object.defineProperty(process, 'stdout', own);
      const stdout = get.call(process) as NodeJS.WriteStream;
      attach(stdout);
      return stdout;
    },
  });
}

async function main(argv: readonly string[]): Promise<void> {
  endQuietlyWhenTheReaderCloses();
  if (await fast(argv)) return;
  if ((globalThis as Build).SLUICE_CJS_BIN) {
    if (!CJS_BIN_SERVES.has(argv[2] ?? '')) {
      // The ES module bundle runs the command line on import, with its own error handling.
      await import(new URL('./main.js', import.meta.url).href);
      return;
    }
  }
  await (await program(argv)).parseAsync(argv as string[]);
}

main(process.argv).catch(async (error: unknown) => {
  // (The CommonJS bin requires commander, as an `import()` would start the ES module loader.)
  const { CommanderError } = (globalThis as Build).SLUICE_CJS_BIN
    ? (require('commander') as typeof import('commander'))
    : await import('commander');
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help text).
    // (`commander.help` with a non-zero code: `sluice` alone or `sluice help nosuch`.)
    process.exitCode = USAGE_ERRORS.has(error.code) || error.exitCode !== 0 ? 2 : 0;
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`sluice: ${message}\n`);
  process.exitCode = process.exitCode || 1;
});
