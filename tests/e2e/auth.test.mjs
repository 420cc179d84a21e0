// Authentication and isolation: with keys configured (--api-keys FILE, or
// INTERACTD_API_KEYS), a request without a key is 401, with a wrong key 403;
// x-goog-api-key and ?key= both work; each key sees only its own
// interactions: another key's id is a 404 for GET, DELETE, cancel, stream
// and previous_interaction_id. The key is checked from the headers, before
// the body: a refused request's body is never buffered (the server's peak
// memory does not grow with it), and a client waiting for "100 Continue"
// gets the 401 without sending its body at all.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { startServer, stopAll, T, sdkErrors, makeClient, textOf, collect, assertEnded } from './lib/server.mjs';

const KEY_A = 'key-alpha-0123456789';
const KEY_B = 'key-bravo-9876543210';
const CFG = { temperature: 0, max_output_tokens: 6 };
const P = '/v1beta/interactions';
let srv;
let A;
let B;
let E;

before(async () => {
  srv = await startServer({ apiKeys: [KEY_A, KEY_B] });
  A = srv.client(KEY_A);
  B = srv.client(KEY_B);
  E = sdkErrors(A);
}, { timeout: 90_000 });
after(stopAll);

const body = { model: 'demo', input: 'hello', generation_config: CFG };

describe('auth with --api-keys', () => {
  it('no key: 401 with an error body; the SDK throws AuthenticationError', T, async () => {
    const r = await srv.raw('POST', P, { body });
    assert.equal(r.status, 401, r.text);
    assert.equal(typeof r.json?.error?.message, 'string');
    assert.equal(typeof r.json?.error?.code, 'string');
    const g = await srv.raw('GET', `${P}/v1_whatever`);
    assert.equal(g.status, 401);
  });

  it('wrong key: 403; the SDK throws PermissionDeniedError without retrying', T, async () => {
    const r = await srv.raw('POST', P, { body, key: 'not-a-key' });
    assert.equal(r.status, 403, r.text);
    assert.equal(typeof r.json?.error?.message, 'string');
    const bad = srv.client('not-a-key');
    await assert.rejects(bad.interactions.create(body), (e) => {
      assert.ok(e instanceof E.PermissionDeniedError, `${e.constructor.name} ${e.status}`);
      return true;
    });
  });

  it('a valid key works through the SDK (x-goog-api-key)', T, async () => {
    const c = await A.interactions.create(body);
    assertEnded(assert, c);
    assert.ok(textOf(c).length > 0);
    const g = await A.interactions.get(c.id);
    assert.equal(g.id, c.id);
  });

  it('?key= works as well', T, async () => {
    const r = await srv.raw('POST', `${P}?key=${encodeURIComponent(KEY_A)}`, { body });
    assert.equal(r.status, 200, r.text);
    const g = await srv.raw('GET', `${P}/${r.json.id}?key=${encodeURIComponent(KEY_A)}`);
    assert.equal(g.status, 200);
    assert.equal(g.json.id, r.json.id);
    const wrong = await srv.raw('GET', `${P}/${r.json.id}?key=nope`);
    assert.equal(wrong.status, 403);
  });

  it("key B cannot see, stream, cancel, delete or continue key A's interaction (404)", T, async () => {
    const c = await A.interactions.create({ ...body, input: 'private to A' });
    await assert.rejects(B.interactions.get(c.id), E.NotFoundError);
    await assert.rejects(B.interactions.get(c.id, { include_input: true }), E.NotFoundError);
    await assert.rejects(B.interactions.delete(c.id), E.NotFoundError);
    await assert.rejects(B.interactions.cancel(c.id), E.NotFoundError);
    await assert.rejects(
      B.interactions.create({ ...body, input: 'hijack', previous_interaction_id: c.id }),
      (e) => { assert.equal(e.status, 404, `${e.status} ${e.message}`); return true; });
    const s = await srv.raw('GET', `${P}/${c.id}?stream=true`, { key: KEY_B });
    assert.equal(s.status, 404);
    assert.equal(s.json?.error?.code, 'not_found');
    // A's interaction is untouched, and A can still continue it.
    const g = await A.interactions.get(c.id);
    assertEnded(assert, g);
    assert.deepEqual(g.outputs, c.outputs);
    const next = await A.interactions.create({ ...body, input: 'go on', previous_interaction_id: c.id });
    assertEnded(assert, next);
    // And the other way round.
    const d = await B.interactions.create({ ...body, input: 'private to B' });
    await assert.rejects(A.interactions.get(d.id), E.NotFoundError);
    const events = await collect(await B.interactions.get(d.id, { stream: true }));
    assert.equal(events[0].event_type, 'interaction.start');
  });

  it('a key cannot delete a foreign interaction, and its own delete works', T, async () => {
    const c = await A.interactions.create(body);
    await assert.rejects(B.interactions.delete(c.id), E.NotFoundError);
    await A.interactions.get(c.id);
    await A.interactions.delete(c.id);
    await assert.rejects(A.interactions.get(c.id), E.NotFoundError);
  });
});

describe('auth with INTERACTD_API_KEYS', () => {
  it('keys from the environment (comma-separated) are enforced', T, async () => {
    const s = await startServer({ env: { INTERACTD_API_KEYS: 'env-one,env-two' } });
    const none = await s.raw('POST', P, { body });
    assert.equal(none.status, 401);
    const wrong = await s.raw('POST', P, { body, key: KEY_A });
    assert.equal(wrong.status, 403);
    for (const k of ['env-one', 'env-two']) {
      const c = await makeClient(s.url, k).interactions.create(body);
      assertEnded(assert, c);
    }
    await s.stop();
  });
});

/** The server's peak resident memory in bytes (Linux: VmHWM). */
function peakRss(srvNow) {
  const m = /VmHWM:\s*(\d+) kB/.exec(fs.readFileSync(`/proc/${srvNow.proc.pid}/status`, 'utf8'));
  assert.ok(m, 'VmHWM in /proc/PID/status');
  return Number(m[1]) * 1024;
}

/** POSTs with `Expect: 100-continue`, sending the body only if the server
 * says 100; resolves {status, json, continued}. */
function postExpecting100(url, size) {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = http.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': size, expect: '100-continue' },
    });
    req.on('continue', () => { continued = true; req.end(' '.repeat(size)); });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        req.destroy();
        resolve({ status: res.statusCode, json, text, continued });
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

describe('auth before the body', () => {
  const BIG = 8 << 20; // under the default --max-body (10 MiB), so only the key is wrong
  const big = JSON.stringify(body) + ' '.repeat(BIG);

  it('a large body without a key: 401 with the error JSON, the body never buffered; a keyed request still works', { timeout: 120_000 }, async () => {
    const s = await startServer({ apiKeys: [KEY_A] });
    const before = peakRss(s);
    for (let i = 0; i < 3; i++) {
      const r = await s.raw('POST', P, { body: big });
      assert.equal(r.status, 401, r.text.slice(0, 300));
      assert.equal(r.json?.error?.code, 'unauthenticated');
      assert.match(r.json.error.message, /API key/);
      const wrong = await s.raw('POST', P, { body: big, key: 'not-a-key' });
      assert.equal(wrong.status, 403, wrong.text.slice(0, 300));
      assert.equal(wrong.json?.error?.code, 'permission_denied');
    }
    // Buffering even one of those bodies would have raised the peak by 8 MiB.
    const grown = peakRss(s) - before;
    assert.ok(grown < BIG / 2, `peak RSS grew by ${grown} bytes over six refused ${BIG}-byte bodies`);
    const c = await s.client(KEY_A).interactions.create(body);
    assertEnded(assert, c);
    const keyed = await s.raw('POST', P, { body: big, key: KEY_A });
    assert.equal(keyed.status, 200, keyed.text.slice(0, 300));
    await s.stop();
  });

  it('a client that waits for 100 Continue gets the 401 at once and never sends its body', T, async () => {
    const r = await postExpecting100(`${srv.url}${P}`, BIG);
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json?.error?.code, 'unauthenticated');
    assert.equal(r.continued, false, 'no 100 Continue for a request without a key');
    const ok = await A.interactions.create(body);
    assertEnded(assert, ok);
  });
});
