/**
 * The screen of a PTY session: a headless terminal emulator fed with the program's output
 * (`ScreenModel`), the query filter for terminals that only show output (`QueryFilter`), the
 * sequence that gives a user's terminal back after detach (`restoreTerminal`), and plain-text
 * rendering. Everything terminal-specific in sessions lives here.
 */
export { QueryFilter, stripQueries } from './query-filter.js';
export {
  AlternateScreenTracker,
  type RestoreOptions,
  restoreTerminal,
  TERMINAL_RESTORE,
} from './restore.js';
export {
  DEFAULT_MAX_SCROLLBACK_BYTES,
  DEFAULT_SCREEN_HIGH_WATER_BYTES,
  DEFAULT_SCROLLBACK_LINES,
  ScreenClosedError,
  type ScreenEvents,
  ScreenModel,
  type ScreenOptions,
  type ScreenSnapshot,
  type SnapshotOptions,
} from './screen-model.js';
export { type TerminalSize, terminalSize } from './terminal-size.js';
export type { TerminalState } from './terminal-state.js';
