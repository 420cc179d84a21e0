// Limits a client cannot get around (issue 9 §3, §4): a body over --max-body
// sent without waiting for "100 Continue" gets its 413, not a reset; one
// client holding thousands of half-open connections (from its own loopback
// address, 127.0.0.2) is cut to --max-connections-per-ip, its extra
// connections closed at once and the held ones after --read-timeout, while
// another client's create and stream succeed; beyond --max-connections a 503
// with the JSON error, then a closed connection; and neither a stream nor a
// create waiting for its answer counts as idle.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, stopAll, T, sleep, collect, sdkErrors, countRequests } from './lib/server.mjs';

after(stopAll);

const P = '/v1beta/interactions';
const ATTACKER = '127.0.0.2';

/** A raw connection from `from` that sends `text` (maybe half a request)
 * and records what comes back and when the server closes it. */
function rawConn(port, text, from) {
  const c = { opened: null, closed: null, data: '', error: null };
  c.done = new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, ...(from ? { localAddress: from } : {}) });
    c.sock = s;
    s.setEncoding('utf8');
    s.on('connect', () => { c.opened = Date.now(); if (text) s.write(text); });
    s.on('data', (d) => { c.data += d; });
    s.on('error', (e) => { c.error = e.code || e.message; });
    s.on('close', () => { c.closed = Date.now(); resolve(c); });
  });
  return c;
}

/** Waits until pred() or ms pass; returns pred()'s last value. */
async function waitFor(pred, ms) {
  const end = Date.now() + ms;
  while (!pred() && Date.now() < end) await sleep(50);
  return pred();
}

/** A background run the model cannot end early (1,000 strings of >= 500
 * characters, by schema), to keep a --parallel 1 engine busy; cancel it. */
async function blocker(srv) {
  const r = await srv.raw('POST', P, { body: { model: 'demo', input: 'block', background: true,
    response_format: { type: 'array', minItems: 1000, items: { type: 'string', minLength: 500 } },
    generation_config: { max_output_tokens: 1000000 } } });
  assert.equal(r.status, 200, r.text);
  return r.json.id;
}

describe('a body over --max-body', () => {
  it('sent by Node\'s fetch without waiting (64 MiB) is answered 413 with the JSON error, then closed', T, async () => {
    const srv = await startServer({ maxBody: 16384 });
    const body = '{' + ' '.repeat(64 * 1024 * 1024 - 2) + '}';
    let r;
    try {
      r = await srv.raw('POST', P, { body });
    } catch (e) {
      assert.fail(`the server should answer 413, not drop the connection: ${e.cause?.code || e.message}`);
    }
    assert.equal(r.status, 413, r.text);
    assert.equal(r.json?.error?.code, 'payload_too_large');
    assert.match(r.json.error.message, /--max-body/);
    assert.equal(r.headers.get('connection'), 'close');
    // The SDK sees it too, as a 413 it does not retry.
    const ai = srv.client();
    const n = countRequests(ai);
    await assert.rejects(ai.interactions.create({ model: 'demo', input: 'x'.repeat(1 << 20) }),
      (e) => e instanceof sdkErrors(ai).APIError && e.status === 413);
    assert.equal(n.n, 1, 'no retry');
    // And the server is fine afterwards.
    assert.equal((await srv.raw('GET', '/healthz')).status, 200);
  });
});

describe('connection limits', () => {
  it('half-open connections from one address: cut to the per-address limit, closed after the timeout; another client is served', { timeout: 120_000 }, async () => {
    const PER_IP = 64;
    const TIMEOUT_S = 4;
    const srv = await startServer({ args: ['--max-connections-per-ip', String(PER_IP),
      '--read-timeout', String(TIMEOUT_S)] });
    const t0 = Date.now();
    const conns = [];
    for (let i = 0; i < 3000; i++) conns.push(rawConn(srv.port, 'GET /v1beta/inter', ATTACKER));
    // Every connection beyond the limit is closed at once; the others stay.
    const settled = () => conns.filter((c) => c.closed || c.opened).length === conns.length &&
      conns.filter((c) => !c.closed).length <= PER_IP;
    assert.ok(await waitFor(settled, 15_000), 'the extra connections were closed');
    const held = conns.filter((c) => !c.closed);
    const refused = conns.filter((c) => c.closed);
    assert.equal(held.length, PER_IP, `held ${held.length}`);
    assert.equal(refused.length, 3000 - PER_IP);
    const slow = refused.filter((c) => c.closed - (c.opened ?? t0) > 2000);
    assert.equal(slow.length, 0, `${slow.length} refused connections took over 2 s to close`);
    assert.ok(refused.every((c) => c.data === ''), 'closed without an answer');

    // Meanwhile the SDK on 127.0.0.1: a plain create and a stream.
    const ai = srv.client();
    const it1 = await ai.interactions.create({ model: 'demo', input: 'hello',
      generation_config: { temperature: 0, max_output_tokens: 8 } });
    assert.ok(['completed', 'incomplete'].includes(it1.status), it1.status); // incomplete: the token limit
    const events = await collect(await ai.interactions.create({ model: 'demo', input: 'hello again',
      stream: true, generation_config: { temperature: 0, max_output_tokens: 8 } }));
    assert.equal(events.at(-1).event_type, 'interaction.complete');
    assert.ok(held.every((c) => !c.closed), 'the held connections are still open before the timeout');

    // The held ones are closed by the server once they have been silent
    // for the timeout (measured from their last byte).
    await Promise.race([Promise.all(held.map((c) => c.done)), sleep(TIMEOUT_S * 1000 + 10_000)]);
    const open = held.filter((c) => !c.closed);
    assert.equal(open.length, 0, `${open.length} half-open connections still open`);
    const early = held.filter((c) => c.closed - c.opened < TIMEOUT_S * 1000 - 500);
    assert.equal(early.length, 0, 'none closed before the timeout');
    // Its address is served again afterwards.
    const again = await rawConn(srv.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', ATTACKER).done;
    assert.match(again.data, /^HTTP\/1\.1 200/);
  });

  it('beyond --max-connections: 503 with the JSON error and Connection: close, then closed at accept', { timeout: 60_000 }, async () => {
    const MAX = 8, ROOM = 16; // the 503 room: max/16, at least 16
    const srv = await startServer({ args: ['--max-connections', String(MAX),
      '--max-connections-per-ip', '0', '--read-timeout', '3'] });
    const hold = [];
    for (let i = 0; i < MAX; i++) hold.push(rawConn(srv.port, 'GET /heal', ATTACKER));
    assert.ok(await waitFor(() => hold.every((c) => c.opened), 5000));
    await sleep(300); // the server has accepted them all
    const GET = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
    const t = Date.now();
    const c503 = await rawConn(srv.port, GET).done;
    assert.match(c503.data, /^HTTP\/1\.1 503/, c503.data);
    assert.match(c503.data, /\r\nConnection: close\r\n/i);
    assert.match(c503.data, /\r\nRetry-After: 1\r\n/i);
    const body = JSON.parse(c503.data.slice(c503.data.indexOf('\r\n\r\n') + 4));
    assert.equal(body.error.code, 'unavailable');
    assert.match(body.error.message, /--max-connections 8/);
    assert.ok(Date.now() - t < 2000, 'answered at once');
    // Fill the 503 room too: the next connection is closed at accept.
    for (let i = 0; i < ROOM; i++) hold.push(rawConn(srv.port, 'GET /heal', ATTACKER));
    assert.ok(await waitFor(() => hold.every((c) => c.opened), 5000));
    await sleep(300);
    const t2 = Date.now();
    const shut = await rawConn(srv.port, GET).done;
    assert.equal(shut.data, '', 'no answer');
    assert.ok(shut.closed - t2 < 1000, `closed at once (${shut.closed - t2} ms)`);
    assert.ok(hold.every((c) => !c.closed), 'the held connections were not touched');
    // Once the held ones time out, clients are served again.
    await Promise.all(hold.map((c) => c.done));
    const ok = await rawConn(srv.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n').done;
    assert.match(ok.data, /^HTTP\/1\.1 200/);
  });

  it('neither a stream nor a create waiting for its answer is idle; an idle keep-alive connection is closed', { timeout: 90_000 }, async () => {
    const srv = await startServer({ args: ['--read-timeout', '1', '--parallel', '1'] });
    const ai = srv.client();
    const blk = await blocker(srv);
    // All three wait in the queue behind the blocker, silent, past 2x the timeout.
    const bg = await ai.interactions.create({ model: 'demo', input: 'queued', background: true,
      generation_config: { temperature: 0, max_output_tokens: 8 } });
    const resumed = ai.interactions.get(bg.id, { stream: true }).then(collect);
    const plain = ai.interactions.create({ model: 'demo', input: 'plain',
      generation_config: { temperature: 0, max_output_tokens: 8 } });
    const streamed = ai.interactions.create({ model: 'demo', input: 'streamed', stream: true,
      generation_config: { temperature: 0, max_output_tokens: 8 } }).then(collect);
    const idle = rawConn(srv.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(2500);
    assert.match(idle.data, /^HTTP\/1\.1 200/);
    assert.ok(idle.closed, 'the idle keep-alive connection was closed');
    assert.ok(idle.closed - idle.opened >= 800, `not before the timeout (${idle.closed - idle.opened} ms)`);
    const c = await srv.raw('POST', `${P}/${blk}/cancel`, {});
    assert.equal(c.status, 200, c.text);
    const [r, p, s] = await Promise.all([resumed, plain, streamed]);
    assert.equal(r.at(-1).event_type, 'interaction.complete');
    assert.ok(['completed', 'incomplete'].includes(r.at(-1).interaction.status));
    assert.ok(['completed', 'incomplete'].includes(p.status), p.status);
    assert.equal(s.at(-1).event_type, 'interaction.complete');
  });
});
