/**
 * One opened session. A PTY session gets a terminal (xterm.js with its DOM renderer, so its
 * text is in the page for screen readers and tests), read-only until the user takes the writer
 * role; the writer can resize it. A pipe session's stdout and stderr are shown as text, with
 * follow. Closing the panel (or the tab) closes the socket, which detaches.
 */
import { Terminal } from '@xterm/xterm';
import { el, formatDuration, wsUrl } from './net.js';
import { type ExitStateJson, exitOf, type SessionJson } from './types.js';

const MAX_TEXT = 2_000_000;

function describeExit(x: ExitStateJson): string {
  return `${x.signal ? `signal ${x.signal}` : `exit code ${x.exitCode}`}, ${x.outcome}`;
}

export class SessionPanel {
  readonly root: HTMLElement;
  readonly #status = el('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  #session: SessionJson;
  #ws: WebSocket | undefined;
  #term: Terminal | undefined;
  #writer = false;
  #disposed = false;
  #stream: 'stdout' | 'stderr' = 'stdout';
  #pre: HTMLPreElement | undefined;
  #follow: HTMLInputElement | undefined;
  #writerButton: HTMLButtonElement | undefined;
  #rows: HTMLInputElement | undefined;
  #cols: HTMLInputElement | undefined;
  #textLength = 0;

  constructor(session: SessionJson) {
    this.#session = session;
    const title = el('h2', {}, `Session ${session.id} `, el('code', {}, session.command));
    this.root = el(
      'article',
      { class: 'session-panel', 'data-id': session.id },
      title,
      this.#status,
    );
    if (session.kind === 'pty') this.#buildTerminal();
    else this.#buildText();
    this.#connect(false);
  }

  /** The list sent a newer description of this session. */
  update(s: SessionJson): void {
    const wasRunning = this.#session.state === 'running';
    this.#session = s;
    const exit = exitOf(s);
    if (wasRunning && exit) this.#say(`Exited (${describeExit(exit)}).`);
  }

  dispose(): void {
    this.#disposed = true;
    this.#ws?.close();
    this.#term?.dispose();
  }

  #say(text: string): void {
    this.#status.textContent = text;
  }

  #buildTerminal(): void {
    const size = this.#session.size ?? { rows: 24, cols: 80 };
    const term = new Terminal({
      rows: size.rows,
      cols: size.cols,
      fontSize: 13,
      fontFamily: 'ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace',
      screenReaderMode: true,
      disableStdin: false,
      cursorBlink: false,
      scrollback: 5000,
      theme: { background: '#1e1f22', foreground: '#e6e6e6' },
    });
    this.#term = term;
    this.#writerButton = el(
      'button',
      { type: 'button', class: 'take-writer' },
      'Take the writer role',
    );
    this.#writerButton.addEventListener('click', () => {
      if (this.#writer) this.#connect(false);
      else if (
        confirm('Take the writer role? Your keys go to the session; another writer is detached.')
      ) {
        this.#connect(true);
      }
    });
    this.#rows = el('input', {
      type: 'number',
      min: '2',
      max: '500',
      value: String(size.rows),
      'aria-label': 'rows',
    });
    this.#cols = el('input', {
      type: 'number',
      min: '10',
      max: '500',
      value: String(size.cols),
      'aria-label': 'columns',
    });
    const resize = el('button', { type: 'button', class: 'resize' }, 'Resize');
    resize.addEventListener('click', () =>
      this.#resize(Number(this.#rows!.value), Number(this.#cols!.value)),
    );
    const fit = el('button', { type: 'button', class: 'fit' }, 'Fit width');
    fit.addEventListener('click', () => this.#fitWidth(host));
    const host = el('div', {
      class: 'terminal',
      'aria-label': `terminal of session ${this.#session.id}`,
    });
    this.root.append(
      el(
        'div',
        { class: 'toolbar' },
        this.#writerButton,
        el('span', { class: 'size' }, this.#rows, '×', this.#cols, resize, fit),
      ),
      host,
    );
    term.open(host);
    term.onData((data) => {
      if (this.#writer && this.#ws?.readyState === WebSocket.OPEN) {
        this.#ws.send(new TextEncoder().encode(data));
      }
    });
  }

  #buildText(): void {
    const tabs = el('span', { class: 'tabs', role: 'tablist' });
    for (const name of this.#session.streams) {
      const b = el('button', { type: 'button', role: 'tab', 'data-stream': name }, name);
      b.setAttribute('aria-selected', String(name === this.#stream));
      b.addEventListener('click', () => {
        this.#stream = name;
        for (const t of tabs.querySelectorAll('button')) {
          t.setAttribute('aria-selected', String(t.dataset.stream === name));
        }
        this.#connect(false);
      });
      tabs.append(b);
    }
    this.#follow = el('input', { type: 'checkbox', checked: '' });
    this.#pre = el('pre', { class: 'output', tabindex: '0', 'aria-label': 'output' });
    this.root.append(
      el('div', { class: 'toolbar' }, tabs, el('label', {}, this.#follow, ' follow')),
      this.#pre,
    );
  }

  #resize(rows: number, cols: number): void {
    if (!this.#term || !(rows >= 2 && cols >= 10)) return;
    this.#term.resize(cols, rows);
    if (this.#writer) this.#ws?.send(JSON.stringify({ type: 'resize', rows, cols }));
  }

  #fitWidth(host: HTMLElement): void {
    const probe = el('span', { class: 'probe' }, 'W'.repeat(50));
    host.append(probe);
    const cell = probe.getBoundingClientRect().width / 50;
    probe.remove();
    if (!(cell > 0)) return;
    const cols = Math.max(20, Math.floor((host.clientWidth - 20) / cell));
    this.#cols!.value = String(cols);
    this.#resize(Number(this.#rows!.value), cols);
  }

  #connect(write: boolean): void {
    this.#ws?.close();
    if (this.#disposed) return;
    const q = new URLSearchParams({
      id: this.#session.id,
      stream: this.#stream,
      mode: write ? 'write' : 'view',
    });
    if (write) {
      q.set('steal', '1');
      if (this.#term) {
        q.set('rows', String(this.#term.rows));
        q.set('cols', String(this.#term.cols));
      }
    }
    this.#term?.reset();
    if (this.#pre) this.#pre.textContent = '';
    this.#textLength = 0;
    const decoder = new TextDecoder();
    const ws = new WebSocket(wsUrl(`/ws/term?${q}`));
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    this.#writer = false;
    ws.onmessage = (e) => {
      if (ws !== this.#ws) return;
      if (typeof e.data !== 'string') {
        const bytes = new Uint8Array(e.data as ArrayBuffer);
        if (this.#term) this.#term.write(bytes);
        else this.#appendText(decoder.decode(bytes, { stream: true }));
        return;
      }
      const m = JSON.parse(e.data) as Record<string, unknown>;
      switch (m.type) {
        case 'attached': {
          this.#writer = m.readOnly === false;
          const s = m.session as SessionJson;
          const up =
            s.state === 'running' ? ` · up ${formatDuration(Date.now() - s.createdAt)}` : '';
          this.#say(
            this.#term
              ? this.#writer
                ? `Writer: your keys go to the session${up}.`
                : `Read-only viewer${up}. Take the writer role to type.`
              : `Showing ${this.#stream}${up}.`,
          );
          if (this.#writerButton) {
            this.#writerButton.textContent = this.#writer
              ? 'Back to read-only'
              : 'Take the writer role';
          }
          if (this.#writer) this.#term?.focus();
          if (typeof m.missedBytes === 'number' && m.missedBytes > 0) {
            this.#note(`[${m.missedBytes} earlier bytes are no longer kept]`);
          }
          return;
        }
        case 'missed':
          this.#note(`[${String(m.bytes)} bytes skipped: this page fell behind]`);
          return;
        case 'exit':
          this.#say(`Exited (${describeExit(m.exit as ExitStateJson)}).`);
          return;
        case 'end':
          if (m.reason === 'stolen') {
            this.#writer = false;
            this.#say('Another client took the writer role: you are detached.');
            if (this.#writerButton) this.#writerButton.textContent = 'Take the writer role';
          } else if (m.reason === 'error') this.#say(`Refused: ${String(m.message)}`);
          return;
        case 'error':
          this.#say(String(m.message));
          return;
      }
    };
    ws.onclose = () => {
      if (ws === this.#ws) this.#writer = false;
    };
  }

  #note(text: string): void {
    if (this.#term) this.#term.write(`\r\n\x1b[2m${text}\x1b[0m\r\n`);
    else this.#appendText(`${text}\n`);
  }

  #appendText(text: string): void {
    const pre = this.#pre!;
    // Text nodes appended, never the whole text rewritten: a long log stays cheap to follow.
    pre.append(text);
    this.#textLength += text.length;
    while (this.#textLength > MAX_TEXT && pre.firstChild) {
      this.#textLength -= pre.firstChild.textContent?.length ?? 0;
      pre.firstChild.remove();
    }
    if (this.#follow?.checked) pre.scrollTop = pre.scrollHeight;
  }
}
