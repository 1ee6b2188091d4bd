/**
 * The sluice dashboard page: two views, Sessions and Flows, over WebSockets to the daemon that
 * served it. The daemon set an HttpOnly cookie with the access token before this script could
 * load, so the script never sees the token.
 */
import '@xterm/xterm/css/xterm.css';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { FlowsView } from './flows-view.js';
import { el, watchTokenInAddress } from './net.js';
import { SessionsView } from './sessions-view.js';

watchTokenInAddress();
const status = el('span', { class: 'conn', role: 'status' }, 'connecting…');
const feeds = new Map<string, boolean>();
const onStatus = (name: string) => (up: boolean) => {
  feeds.set(name, up);
  const all = [...feeds.values()].every(Boolean);
  status.textContent = all ? 'connected' : 'reconnecting…';
  status.classList.toggle('down', !all);
};

const sessions = new SessionsView(onStatus('sessions'));
const flows = new FlowsView(onStatus('flows'));
const tabs = {
  sessions: el('button', { type: 'button', role: 'tab', id: 'tab-sessions' }, 'Sessions'),
  flows: el('button', { type: 'button', role: 'tab', id: 'tab-flows' }, 'Flows'),
};

function show(view: 'sessions' | 'flows'): void {
  sessions.root.hidden = view !== 'sessions';
  flows.root.hidden = view !== 'flows';
  flows.setVisible(view === 'flows');
  tabs.sessions.setAttribute('aria-selected', String(view === 'sessions'));
  tabs.flows.setAttribute('aria-selected', String(view === 'flows'));
  if (location.hash !== `#${view}`) history.replaceState(null, '', `#${view}`);
}
tabs.sessions.addEventListener('click', () => show('sessions'));
tabs.flows.addEventListener('click', () => show('flows'));

document
  .getElementById('app')!
  .append(
    el(
      'header',
      { class: 'top' },
      el('h1', {}, 'sluice'),
      el('nav', { role: 'tablist' }, tabs.sessions, tabs.flows),
      status,
    ),
    el('main', {}, sessions.root, flows.root),
  );
show(location.hash === '#flows' ? 'flows' : 'sessions');
