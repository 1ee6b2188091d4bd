/**
 * What every demo section gets: where to print, a cancellation signal (Ctrl-C), private temp
 * dirs, and a cleanup stack. A section registers every resource it makes with `defer` the moment
 * it exists, so an interrupt at any point still releases it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paint, type Style } from '../style.js';

export interface DemoContext {
  /** Aborted on SIGINT/SIGTERM; sections stop their work and return (or throw) promptly. */
  readonly signal: AbortSignal;
  /**
   * Makes a private `sluice-demo-<name>-*` dir under the OS temp dir. The section removes it when
   * it is done with it (`remove()`); the cleanup stack removes it too, whatever happens.
   */
  tempDir(name: string): { path: string; remove(): void };
  /** Whether stdout is a terminal that takes colours and redraws. */
  readonly color: boolean;
  /** Shortens the run (tests and CI): smaller data, shorter phases. */
  readonly quick: boolean;
  /** Writes a line. */
  say(text?: string): void;
  /** Writes a heading line. */
  heading(text: string): void;
  /** Writes a "notice" line: what the user should look at. */
  notice(text: string): void;
  /** Styles text when colours are on. */
  style(text: string, style: Style): string;
  /** Registers a cleanup step; steps run last-in first-out at the end, whatever happens. */
  defer(step: () => unknown): void;
}

/** Owns the temp dir and the cleanup stack behind a `DemoContext`. */
export class DemoRun {
  readonly context: DemoContext;
  readonly #steps: (() => unknown)[] = [];

  constructor(options: {
    signal: AbortSignal;
    color: boolean;
    quick: boolean;
    out: NodeJS.WritableStream;
  }) {
    const { out, color } = options;
    const write = (text: string) => out.write(`${text}\n`);
    const style = (text: string, s: Style) => paint(text, s, color);
    this.context = {
      signal: options.signal,
      tempDir: (name) => {
        const path = mkdtempSync(join(tmpdir(), `sluice-demo-${name}-`));
        const remove = () => rmSync(path, { recursive: true, force: true });
        this.#steps.push(remove);
        return { path, remove };
      },
      color,
      quick: options.quick,
      say: (text = '') => write(text),
      heading: (text) => write(`\n${style(`━━ ${text} `.padEnd(72, '━'), 'bold')}`),
      notice: (text) => write(`${style('  → ', 'cyan')}${text}`),
      style,
      defer: (step) => {
        this.#steps.push(step);
      },
    };
  }

  /** Runs every deferred step (LIFO), each even if an earlier one failed. */
  async cleanup(): Promise<void> {
    while (this.#steps.length > 0) {
      const step = this.#steps.pop()!;
      try {
        await step();
      } catch {
        // Keep cleaning: one stuck resource must not leave the others behind.
      }
    }
  }
}
