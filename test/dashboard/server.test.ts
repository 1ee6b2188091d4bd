import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SessionRegistry } from '../../src/sessions/core/registry.js';
import { DashboardServer, registryHost } from '../../src/sessions/dashboard/index.js';
import {
  assertNoLeaks,
  type ResourceSnapshot,
  snapshotResources,
  withLeakCheck,
} from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';
import { closeWs, http, openWs } from './http.js';
import { parseMetrics, promtool, promtoolCheck } from './metrics-text.js';

describe('dashboard server', () => {
  let registry: SessionRegistry;
  let dash: DashboardServer;
  let auth: Record<string, string>;
  let ws: (path: string) => string;
  let start: ResourceSnapshot;

  before(async () => {
    start = snapshotResources();
    registry = new SessionRegistry();
    dash = await DashboardServer.start({
      host: registryHost(registry),
      listen: '0',
      listIntervalMs: 100,
    });
    auth = { Authorization: `Bearer ${dash.token}` };
    ws = (path) => `ws://127.0.0.1:${dash.port}${path}`;
  });

  after(async () => {
    await dash.close();
    await registry.shutdown({ graceMs: 200 });
    // The server, its sockets, every session: nothing of the suite is left.
    await assertNoLeaks(start);
  });

  it('prints an address with the token in its fragment', () => {
    assert.equal(dash.url, `http://127.0.0.1:${dash.port}/#token=${dash.token}`);
  });

  it('refuses every request without the token', async () => {
    const page = await http(`${dash.origin}/`);
    assert.equal(page.status, 401);
    assert.match(page.body, /needs its access token/);
    assert.doesNotMatch(page.body, new RegExp(dash.token));
    for (const path of [
      '/app.js',
      '/app.css',
      '/metrics',
      '/api/sessions',
      '/api/flows',
      '/nope',
    ]) {
      const r = await http(`${dash.origin}${path}`);
      assert.equal(r.status, 401, path);
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="sluice"');
    }
    const wrong = await http(`${dash.origin}/metrics`, {
      headers: { Authorization: 'Bearer wrong' },
    });
    assert.equal(wrong.status, 401);
    const post = await http(`${dash.origin}/login`, {
      method: 'POST',
      headers: { Authorization: 'Bearer wrong' },
    });
    assert.equal(post.status, 401);
  });

  it('trades the token for an HttpOnly cookie, by POST /login or ?token=', async () => {
    const login = await http(`${dash.origin}/login`, {
      method: 'POST',
      headers: { ...auth, Origin: dash.origin },
    });
    assert.equal(login.status, 204);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    assert.equal(cookie, `sluice_dashboard_${dash.port}=${dash.token}`);
    const page = await http(`${dash.origin}/`, { headers: { Cookie: cookie } });
    assert.equal(page.status, 200);
    assert.match(page.body, /<script src="\/app.js">/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    const query = await http(`${dash.origin}/?token=${dash.token}`);
    assert.equal(query.status, 303);
    assert.equal(query.headers.location, '/');
    assert.match(String(query.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
    // Another site's page cannot trade a token it stole into a cookie for itself.
    const foreign = await http(`${dash.origin}/login`, {
      method: 'POST',
      headers: { ...auth, Origin: 'http://evil.example' },
    });
    assert.equal(foreign.status, 401);
  });

  it('answers only to loopback host names', async () => {
    const r = await http(`${dash.origin}/metrics`, {
      headers: { ...auth, Host: `rebound.example:${dash.port}` },
    });
    assert.equal(r.status, 421);
  });

  it('serves the bundled page', async () => {
    const js = await http(`${dash.origin}/app.js`, { headers: auth });
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /javascript/);
    assert.ok(js.body.length > 50_000, 'xterm.js and uPlot are bundled in');
    assert.doesNotMatch(js.body, /https?:\/\/(cdn|unpkg|jsdelivr)/);
    const css = await http(`${dash.origin}/app.css`, { headers: auth });
    assert.match(css.body, /\.xterm/);
  });

  it(
    'WebSocket upgrades need the token and, from a browser, the dashboard origin',
    withLeakCheck(async () => {
      await assert.rejects(openWs(ws('/ws/sessions')), /refused: 401/);
      const cookie = `sluice_dashboard_${dash.port}=${dash.token}`;
      await assert.rejects(openWs(ws('/ws/sessions'), { Cookie: cookie }), /refused: 403/);
      await assert.rejects(
        openWs(ws('/ws/sessions'), { Cookie: cookie, Origin: 'http://evil.example' }),
        /refused: 403/,
      );
      await assert.rejects(openWs(ws('/ws/nope'), auth), /refused: 404/);
      const ok = await openWs(ws('/ws/sessions'), { Cookie: cookie, Origin: dash.origin });
      await closeWs(ok.ws);
    }),
  );

  it(
    'the live list shows a new session within one refresh and stops and removes it',
    withLeakCheck(async () => {
      const { ws: sock, got } = await openWs(ws('/ws/sessions'), auth);
      await waitFor(() => got.json.length > 0);
      assert.equal(dash.openPages, 1);
      const s = await registry.spawn({ argv: ['sleep', '30'], originator: 'dash-test' });
      const listed = () =>
        got.json.some(
          (m) =>
            m.type === 'sessions' && (m.sessions as { id: string }[]).some((x) => x.id === s.id),
        );
      await waitFor(listed, { timeoutMs: 1000, message: 'the session in the list within 1 s' });
      sock.send(JSON.stringify({ type: 'stop', id: s.id, req: 7 }));
      await waitFor(() => got.json.find((m) => m.type === 'reply' && m.req === 7));
      await s.exited;
      sock.send(JSON.stringify({ type: 'remove', id: s.id, req: 8 }));
      await waitFor(() => got.json.find((m) => m.type === 'reply' && m.req === 8 && m.ok === true));
      assert.equal(registry.get(s.id), undefined);
      sock.send(JSON.stringify({ type: 'stop', id: 'no-such-session', req: 9 }));
      const refused = await waitFor(() => got.json.find((m) => m.type === 'reply' && m.req === 9));
      assert.equal(refused.ok, false);
      assert.match(String(refused.error), /no-such-session/);
      await closeWs(sock);
      assert.equal(dash.openPages, 0);
    }),
  );

  it(
    'a browser terminal gets the backlog and live output, writes as the writer, and detaches on close',
    withLeakCheck(async () => {
      const s = await registry.spawn({ argv: ['sh', '-c', 'echo ready; exec cat'] });
      await waitFor(() => s.snapshot('stdout').data.includes('ready'));
      const { ws: viewer, got: seen } = await openWs(ws(`/ws/term?id=${s.id}`), auth);
      const { ws: writer, got: wrote } = await openWs(ws(`/ws/term?id=${s.id}&mode=write`), auth);
      await waitFor(() => wrote.json.some((m) => m.type === 'attached'));
      assert.equal(wrote.json[0]!.readOnly, false);
      assert.deepEqual(s.info().attachments.stdout, {
        ...s.info().attachments.stdout,
        writer: true,
        viewers: 1,
      });
      writer.send(Buffer.from('hello from the browser\n'));
      await waitFor(() => seen.bytes().includes('hello from the browser'), {
        message: 'the viewer sees what the writer typed',
      });
      assert.match(seen.bytes(), /^ready\n/);
      assert.equal(seen.json[0]!.readOnly, true);
      // A viewer's keys never reach the session.
      viewer.send(Buffer.from('ignored\n'));
      await waitFor(() => seen.json.some((m) => m.type === 'error'));
      await closeWs(viewer);
      await closeWs(writer);
      await waitFor(
        () => {
          const a = s.info().attachments.stdout!;
          return !a.writer && a.viewers === 0;
        },
        { message: 'closing the sockets detaches' },
      );
      assert.doesNotMatch(s.snapshot('stdout').data.toString(), /ignored/);
      await s.terminate({ graceMs: 100 });
      await registry.remove(s.id);
    }),
  );

  it(
    'a PTY terminal starts from a drawing of the screen, then live output',
    withLeakCheck(async () => {
      const s = await registry.spawn({
        argv: [
          'sh',
          '-c',
          'printf "\\033[2J\\033[Hfirst screen"; read line; echo "got $line"; sleep 30',
        ],
        pty: { rows: 10, cols: 40 },
      });
      await waitFor(() => s.snapshot('stdout').data.includes('first screen'));
      const { ws: viewer, got } = await openWs(ws(`/ws/term?id=${s.id}`), auth);
      await waitFor(() => got.json.some((m) => m.type === 'attached'));
      assert.equal(got.json[0]!.screen, true, 'drawn from the screen model');
      await waitFor(() => got.bytes().includes('first screen'));
      await s.writeStdin('abc\r');
      await waitFor(() => got.bytes().includes('got abc'), {
        message: 'live output after the drawing',
      });
      // A viewer cannot resize; the writer can, at attach and later.
      viewer.send(JSON.stringify({ type: 'resize', rows: 5, cols: 20 }));
      const { ws: writer, got: wrote } = await openWs(
        ws(`/ws/term?id=${s.id}&mode=write&rows=12&cols=50`),
        auth,
      );
      await waitFor(() => wrote.json.some((m) => m.type === 'attached'));
      assert.deepEqual(s.size, { rows: 12, cols: 50 });
      writer.send(JSON.stringify({ type: 'resize', rows: 20, cols: 70 }));
      await waitFor(() => s.size?.rows === 20 && s.size.cols === 70, { message: 'resized' });
      await closeWs(writer);
      await closeWs(viewer);
      await s.terminate({ graceMs: 100 });
      await registry.remove(s.id);
    }),
  );

  it(
    'a terminal for a bad session or query is closed with the reason',
    withLeakCheck(async () => {
      for (const q of ['id=nope', 'id=x&stream=stdin', 'id=x&mode=admin', 'id=x&rows=0&cols=9']) {
        const { got } = await openWs(ws(`/ws/term?${q}`), auth);
        const code = await got.closed;
        assert.equal(code, 1008, q);
        assert.equal(got.json[0]?.reason, 'error', q);
      }
    }),
  );

  it(
    '/metrics is valid Prometheus text with the sessions and flows',
    withLeakCheck(async () => {
      const s = await registry.spawn({ argv: ['sh', '-c', 'printf 12345'], originator: 'm' });
      await s.exited;
      dash.flows.publish({
        name: 'etl',
        intervalMs: 1000,
        at: Date.now(),
        stages: ['read', 'parse'],
        edges: [{ from: 'read', to: 'parse', ratio: 1 }],
        drum: 'parse',
        samples: {
          read: {
            submitted: 10,
            completed: 9,
            failed: 1,
            wip: 1,
            wipLimit: 4,
            queueLength: 0,
            queueCapacity: 8,
            workers: 1,
            serviceTimeMs: 90,
            serviceTime: null,
          },
          parse: {
            submitted: 9,
            completed: 7,
            failed: 0,
            wip: 2,
            wipLimit: 2,
            queueLength: 6,
            queueCapacity: 8,
            workers: 2,
            serviceTimeMs: 700,
            serviceTime: { count: 7, p50Ms: 90, p95Ms: 150, p99Ms: 190 },
          },
        },
      });
      const r = await http(`${dash.origin}/metrics`, { headers: auth });
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      const { types, series } = parseMetrics(r.body);
      const tool = promtool();
      if (tool) assert.equal(promtoolCheck(tool, r.body), '', 'promtool check metrics is clean');
      const one = (name: string, labels: Record<string, string>) =>
        series.find(
          (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
        )?.value;
      assert.equal(types.get('sluice_session_output_bytes_total'), 'counter');
      assert.equal(
        one('sluice_session_output_bytes_total', { session: s.id, stream: 'stdout' }),
        5,
      );
      assert.equal(one('sluice_sessions', { state: 'exited' }), 1);
      assert.ok((one('process_resident_memory_bytes', {}) ?? 0) > 10_000_000);
      assert.ok((one('process_open_fds', {}) ?? 0) > 3);
      assert.equal(one('sluice_flow_stage_completed_total', { flow: 'etl', stage: 'parse' }), 7);
      assert.equal(one('sluice_flow_stage_wip_limit', { flow: 'etl', stage: 'read' }), 4);
      assert.equal(one('sluice_flow_stage_queue_length', { flow: 'etl', stage: 'parse' }), 6);
      assert.equal(one('sluice_flow_stage_drum', { flow: 'etl', stage: 'parse' }), 1);
      assert.equal(types.get('sluice_flow_stage_service_time_seconds'), 'summary');
      assert.equal(
        one('sluice_flow_stage_service_time_seconds', {
          flow: 'etl',
          stage: 'parse',
          quantile: '0.95',
        }),
        0.15,
      );
      assert.equal(
        one('sluice_flow_stage_service_time_seconds_count', { flow: 'etl', stage: 'read' }),
        9,
      );
      assert.equal(one('sluice_flow_up', { flow: 'etl' }), 1);
      await registry.remove(s.id);
    }),
  );
});

describe('dashboard start', () => {
  it(
    'refuses a non-loopback address without allowRemote, and a port in use',
    withLeakCheck(async () => {
      const registry = new SessionRegistry();
      await assert.rejects(
        DashboardServer.start({ host: registryHost(registry), listen: '0.0.0.0:0' }),
        /http: '0\.0\.0\.0' is not a loopback address/,
      );
      const first = await DashboardServer.start({ host: registryHost(registry), listen: '0' });
      await assert.rejects(
        DashboardServer.start({ host: registryHost(registry), listen: String(first.port) }),
        /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/,
      );
      await first.close();
      await registry.shutdown();
    }),
  );
});
