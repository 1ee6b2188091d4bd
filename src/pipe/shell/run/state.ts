/**
 * The interpreter's own state: what `cd`, `export`, `unset`, `set` and assignments change. A
 * subshell `( … )`, a command substitution and every element of a multi-command pipeline run on
 * a copy, so their changes do not leak out, as in bash.
 */

/** Shell options `set` can change. */
export interface ShellFlags {
  /** `set -e`: stop the script when a command fails outside a condition. */
  errexit: boolean;
  /** `set -u`: expanding an unset variable is an error. */
  nounset: boolean;
}

/** The state one script runs in. */
export class ShellState {
  /** The working directory of commands, `pwd` and relative paths. */
  cwd: string;
  /** Shell variables; exported ones are also in `exported`. */
  readonly vars: Map<string, string>;
  /**
   * Names of the variables passed to commands' environments (`export`, and every variable the
   * script started with).
   */
  readonly exported: Set<string>;
  /** `$?`. */
  status = 0;
  /** `$0`, `$1`, …. */
  positional: string[];
  /** The `set` options in force (`set -e`, `set -u`); a subshell gets a copy. */
  readonly flags: ShellFlags;
  /** `$$`: the pid of the process running the interpreter. */
  readonly pid: number;

  constructor(init: {
    cwd: string;
    env: Record<string, string | undefined>;
    positional?: string[];
    flags?: Partial<ShellFlags>;
  }) {
    this.cwd = init.cwd;
    this.vars = new Map();
    this.exported = new Set();
    for (const [k, v] of Object.entries(init.env)) {
      if (v === undefined) continue;
      this.vars.set(k, v);
      this.exported.add(k);
    }
    this.positional = init.positional ?? ['sluice'];
    this.flags = { errexit: false, nounset: false, ...init.flags };
    this.pid = process.pid;
  }

  /** A copy for a subshell: changes to it never reach this state. */
  clone(): ShellState {
    const s = new ShellState({
      cwd: this.cwd,
      env: {},
      positional: [...this.positional],
      flags: { ...this.flags },
    });
    for (const [k, v] of this.vars) s.vars.set(k, v);
    for (const k of this.exported) s.exported.add(k);
    s.status = this.status;
    return s;
  }

  /**
   * The environment commands get, as a complete map: exported variables, with `extra` (a
   * command's `NAME=value` prefixes) over them.
   */
  environment(extra?: ReadonlyMap<string, string>): Record<string, string> {
    const env: Record<string, string> = {};
    for (const k of this.exported) {
      const v = this.vars.get(k);
      if (v !== undefined) env[k] = v;
    }
    if (extra) for (const [k, v] of extra) env[k] = v;
    return env;
  }

  /**
   * The same environment as a change over `process.env` (the form a command's `env` option
   * takes): the variables whose value differs, and `undefined` for each variable of
   * `process.env` the script unset or never exported. Undefined when there is no change at all,
   * so the child inherits `process.env` as is (the cheapest spawn).
   */
  envChanges(extra?: ReadonlyMap<string, string>): Record<string, string | undefined> | undefined {
    const changes: Record<string, string | undefined> = {};
    let any = false;
    for (const k of this.exported) {
      const v = this.vars.get(k);
      if (v !== undefined && process.env[k] !== v) {
        changes[k] = v;
        any = true;
      }
    }
    for (const k of Object.keys(process.env)) {
      if (!this.exported.has(k) || !this.vars.has(k)) {
        changes[k] = undefined;
        any = true;
      }
    }
    if (extra) {
      for (const [k, v] of extra) changes[k] = v;
      any ||= extra.size > 0;
    }
    return any ? changes : undefined;
  }
}
