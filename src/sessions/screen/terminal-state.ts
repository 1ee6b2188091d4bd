/**
 * The state of a headless xterm.js terminal that its public API and its serialize addon leave
 * out, and the escape sequences that restore it: cursor visibility and shape, the scroll region,
 * the mouse encoding, the keypad mode as `ESC =` (what tmux and most terminals know, rather
 * than xterm's `CSI ? 66 h`), the window title.
 *
 * These values live on xterm.js internals (`_core`); they are read here and only here, each one
 * checked, so an xterm.js release that moves one degrades that one mode (and the unit tests,
 * which restore every mode through a second terminal, say which) instead of breaking the screen.
 */
import type { Terminal } from '@xterm/headless';

/** The modes and state a snapshot restores besides the cells (see `readTerminalState`). */
export interface TerminalState {
  /** Which buffer is shown. */
  buffer: 'normal' | 'alternate';
  /** Cursor position in the shown screen, 0-based. */
  cursor: {
    /** Column, 0 at the left edge. */
    x: number;
    /** Row, 0 at the top of the shown screen. */
    y: number;
  };
  /** Whether the program hid the cursor (DECTCEM, `CSI ? 25 l`). */
  cursorHidden: boolean;
  /** DECSCUSR shape, when the program set one. */
  cursorStyle: 'block' | 'underline' | 'bar' | undefined;
  /** Whether the cursor blinks, when the program set it; undefined leaves the terminal's default. */
  cursorBlink: boolean | undefined;
  /** Scroll region of the shown buffer, 0-based inclusive rows. */
  scrollRegion: {
    /** First row of the region (0 when no region is set). */
    top: number;
    /** Last row of the region (the screen's last row when no region is set). */
    bottom: number;
  };
  /** DECCKM (`CSI ? 1 h`): arrow keys send `ESC O` sequences instead of `CSI`. */
  applicationCursorKeys: boolean;
  /** DECKPAM (`ESC =`): the keypad sends application sequences. */
  applicationKeypad: boolean;
  /** `CSI ? 2004 h`: pasted text is wrapped in `ESC [200~` and `ESC [201~`. */
  bracketedPaste: boolean;
  /** IRM (`CSI 4 h`): printed characters shift the rest of the line right instead of overwriting. */
  insertMode: boolean;
  /** DECOM (`CSI ? 6 h`): cursor addressing is relative to the scroll region. */
  originMode: boolean;
  /** `CSI ? 45 h`: backspace at the left edge moves to the end of the previous line. */
  reverseWraparound: boolean;
  /** `CSI ? 1004 h`: the terminal reports focus in and out to the program. */
  sendFocus: boolean;
  /** DECAWM (`CSI ? 7 h`): printing past the last column wraps to the next line. */
  wraparound: boolean;
  /** Which mouse events the program asked to receive; `none` when it asked for none. */
  mouseTracking: 'none' | 'x10' | 'vt200' | 'drag' | 'any';
  /** How mouse reports are encoded: the classic bytes, SGR (`CSI ? 1006 h`) or SGR pixels (`CSI ? 1016 h`). */
  mouseEncoding: 'default' | 'sgr' | 'sgr-pixels';
  /** The window title the program last set (OSC 0 or 2); empty when it set none. */
  title: string;
}

interface Core {
  coreService?: {
    isCursorHidden?: boolean;
    decPrivateModes?: { cursorStyle?: string; cursorBlink?: boolean };
  };
  coreMouseService?: { activeEncoding?: string };
  _bufferService?: { buffer?: { scrollTop?: number; scrollBottom?: number } };
  _inputHandler?: { _windowTitle?: string };
}

function core(term: Terminal): Core {
  return ((term as unknown as { _core?: Core })._core ?? {}) as Core;
}

/** Reads the terminal's state (parse everything written first: the caller's job). */
export function readTerminalState(term: Terminal): TerminalState {
  const c = core(term);
  const modes = term.modes;
  const active = term.buffer.active;
  const internal = c._bufferService?.buffer;
  const style = c.coreService?.decPrivateModes?.cursorStyle;
  const encoding = c.coreMouseService?.activeEncoding;
  return {
    buffer: active.type,
    cursor: { x: active.cursorX, y: active.cursorY },
    cursorHidden: c.coreService?.isCursorHidden === true,
    cursorStyle: style === 'block' || style === 'underline' || style === 'bar' ? style : undefined,
    cursorBlink: c.coreService?.decPrivateModes?.cursorBlink,
    scrollRegion: {
      top: typeof internal?.scrollTop === 'number' ? internal.scrollTop : 0,
      bottom: typeof internal?.scrollBottom === 'number' ? internal.scrollBottom : term.rows - 1,
    },
    applicationCursorKeys: modes.applicationCursorKeysMode,
    applicationKeypad: modes.applicationKeypadMode,
    bracketedPaste: modes.bracketedPasteMode,
    insertMode: modes.insertMode,
    originMode: modes.originMode,
    reverseWraparound: modes.reverseWraparoundMode,
    sendFocus: modes.sendFocusMode,
    wraparound: modes.wraparoundMode,
    mouseTracking: modes.mouseTrackingMode,
    mouseEncoding:
      encoding === 'SGR' ? 'sgr' : encoding === 'SGR_PIXELS' ? 'sgr-pixels' : 'default',
    title: typeof c._inputHandler?._windowTitle === 'string' ? c._inputHandler._windowTitle : '',
  };
}

const MOUSE_TRACKING: Record<TerminalState['mouseTracking'], string> = {
  none: '',
  x10: '\x1b[?9h',
  vt200: '\x1b[?1000h',
  drag: '\x1b[?1002h',
  any: '\x1b[?1003h',
};

const MOUSE_ENCODING: Record<TerminalState['mouseEncoding'], string> = {
  default: '',
  sgr: '\x1b[?1006h',
  'sgr-pixels': '\x1b[?1016h',
};

const CURSOR_SHAPE = { block: 1, underline: 3, bar: 5 } as const;

/** Strips control characters, so a title cannot end its own OSC or smuggle a sequence. */
function safeTitle(title: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  return title.replace(/[\x00-\x1f\x7f-\x9f]/g, '');
}

/**
 * The sequence that, written after the cells, gives a terminal this state: scroll region, then
 * origin mode, then the cursor position (a scroll region and origin mode both home the cursor,
 * so the position comes after them), then every mode that differs from a fresh terminal's.
 */
export function stateSequence(s: TerminalState, rows: number): string {
  let out = '';
  if (s.scrollRegion.top !== 0 || s.scrollRegion.bottom !== rows - 1) {
    out += `\x1b[${s.scrollRegion.top + 1};${s.scrollRegion.bottom + 1}r`;
  }
  let y = s.cursor.y;
  if (s.originMode) {
    out += '\x1b[?6h';
    y -= s.scrollRegion.top;
  }
  out += `\x1b[${y + 1};${s.cursor.x + 1}H`;
  if (s.applicationCursorKeys) out += '\x1b[?1h';
  if (s.applicationKeypad) out += '\x1b=';
  if (s.bracketedPaste) out += '\x1b[?2004h';
  if (s.insertMode) out += '\x1b[4h';
  if (s.reverseWraparound) out += '\x1b[?45h';
  if (s.sendFocus) out += '\x1b[?1004h';
  if (!s.wraparound) out += '\x1b[?7l';
  out += MOUSE_TRACKING[s.mouseTracking];
  if (s.mouseTracking !== 'none') out += MOUSE_ENCODING[s.mouseEncoding];
  if (s.cursorStyle !== undefined) {
    out += `\x1b[${CURSOR_SHAPE[s.cursorStyle] + (s.cursorBlink === false ? 1 : 0)} q`;
  }
  if (s.cursorHidden) out += '\x1b[?25l';
  const title = safeTitle(s.title);
  if (title !== '') out += `\x1b]2;${title}\x07`;
  return out;
}
