import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { InvalidOptionError } from '../../src/proc/index.js';
import {
  Access,
  hostPort,
  isLoopbackHost,
  newToken,
  parseListenAddress,
  tokenMatches,
} from '../../src/sessions/dashboard/index.js';

function req(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

describe('listen address', () => {
  it('a bare port binds loopback', () => {
    assert.deepEqual(parseListenAddress('8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseListenAddress('0'), { host: '127.0.0.1', port: 0 });
  });

  it('takes HOST:PORT and [IPv6]:PORT', () => {
    assert.deepEqual(parseListenAddress('localhost:9'), { host: 'localhost', port: 9 });
    assert.deepEqual(parseListenAddress('[::1]:7000'), { host: '::1', port: 7000 });
    assert.equal(hostPort('::1', 7000), '[::1]:7000');
  });

  it('refuses a non-loopback host unless allowed', () => {
    assert.throws(
      () => parseListenAddress('0.0.0.0:8080'),
      (e: unknown) => {
        assert.ok(e instanceof InvalidOptionError);
        assert.equal(e.option, 'http');
        assert.match(e.message, /not a loopback address.*--http-allow-remote/);
        return true;
      },
    );
    assert.deepEqual(parseListenAddress('0.0.0.0:8080', { allowRemote: true }), {
      host: '0.0.0.0',
      port: 8080,
    });
  });

  it('refuses bad ports and shapes with one clear message', () => {
    for (const bad of ['', 'x', '65536', '-1', '80a', ':80', '::1:80', '127.0.0.1:']) {
      assert.throws(() => parseListenAddress(bad), InvalidOptionError, bad);
    }
  });

  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) {
      assert.equal(isLoopbackHost(h), true, h);
    }
    for (const h of ['0.0.0.0', '10.0.0.1', 'example.com', '::', '128.0.0.1']) {
      assert.equal(isLoopbackHost(h), false, h);
    }
  });
});

describe('token and access', () => {
  const token = newToken();
  const access = new Access(token, 4242, true);
  const url = (q = '') => new URL(`http://127.0.0.1:4242/${q}`);

  it('tokens are long, random and compared exactly', () => {
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(newToken(), token);
    assert.equal(tokenMatches(token, token), true);
    assert.equal(tokenMatches(token, `${token}x`), false);
    assert.equal(tokenMatches(token, token.slice(1)), false);
    assert.equal(tokenMatches(token, undefined), false);
  });

  it('accepts the token as Bearer, cookie or query, and nothing else', () => {
    assert.equal(access.credential(req({ authorization: `Bearer ${token}` }), url()), 'bearer');
    assert.equal(
      access.credential(req({ cookie: `a=b; sluice_dashboard_4242=${token}` }), url()),
      'cookie',
    );
    assert.equal(access.credential(req({}), url(`?token=${token}`)), 'query');
    assert.equal(access.credential(req({}), url()), null);
    assert.equal(access.credential(req({ authorization: 'Bearer nope' }), url()), null);
    // A wrong Bearer is not rescued by a right query token.
    assert.equal(
      access.credential(req({ authorization: 'Bearer nope' }), url(`?token=${token}`)),
      null,
    );
    // Another dashboard's cookie (another port) does not count.
    assert.equal(access.credential(req({ cookie: `sluice_dashboard_1=${token}` }), url()), null);
  });

  it('the cookie is HttpOnly and SameSite=Strict', () => {
    assert.match(
      access.setCookie(),
      /^sluice_dashboard_4242=.+; Path=\/; HttpOnly; SameSite=Strict$/,
    );
  });

  it('checks Origin against the Host it was sent to', () => {
    const host = '127.0.0.1:4242';
    assert.equal(access.originAllowed(req({ host, origin: `http://${host}` }), true), true);
    assert.equal(access.originAllowed(req({ host, origin: 'http://evil.example' }), true), false);
    assert.equal(access.originAllowed(req({ host, origin: 'null' }), false), false);
    assert.equal(access.originAllowed(req({ host }), true), false);
    assert.equal(access.originAllowed(req({ host }), false), true);
  });

  it('on loopback, answers only to loopback host names (DNS rebinding)', () => {
    assert.equal(access.hostAllowed(req({ host: '127.0.0.1:4242' })), true);
    assert.equal(access.hostAllowed(req({ host: 'localhost:4242' })), true);
    assert.equal(access.hostAllowed(req({ host: '[::1]:4242' })), true);
    assert.equal(access.hostAllowed(req({ host: 'attacker.example:4242' })), false);
    assert.equal(access.hostAllowed(req({})), false);
    assert.equal(new Access(token, 1, false).hostAllowed(req({ host: 'box.lan:1' })), true);
  });
});
