// GET /{v}/interactions: a page of the caller's stored interactions, newest
// first — not in Google's API (its SDKs list no interactions); the web
// console lists a key's conversations with it. Per-key isolation, paging
// with page_size / page_token to the last page, the fields of each entry
// (an agent's named as agent), and the 400s.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAll, T, raw, sleep } from './lib/server.mjs';

let srv, ai;
const made = [];

before(async () => {
  srv = await startServer({ apiKeys: ['key-a', 'key-b'] });
  ai = srv.client('key-a');
  for (let i = 0; i < 5; i++) {
    const prev = made.at(-1);
    made.push(await ai.interactions.create({ model: 'demo', input: `Question ${i}`, generation_config: { max_output_tokens: 2 },
      ...(prev && i % 2 ? { previous_interaction_id: prev.id } : {}) }));
    if (i === 2) await sleep(1100); // two creation seconds: newest first across them
  }
  await srv.client('key-b').interactions.create({ model: 'demo', input: 'Not yours', generation_config: { max_output_tokens: 2 } });
  await ai.interactions.create({ model: 'demo', input: 'Not kept', store: false, generation_config: { max_output_tokens: 2 } });
}, { timeout: 60_000 });
after(stopAll);

const list = (q = '', key = 'key-a', v = 'v1beta') => raw(srv.url, 'GET', `/${v}/interactions${q}`, { key });

describe('GET /interactions (the console\'s list)', () => {
  it('lists the key\'s stored interactions only, newest first, with their fields', T, async () => {
    const r = await list();
    assert.equal(r.status, 200, r.text);
    const ids = r.json.interactions.map((e) => e.id);
    assert.deepEqual([...ids].sort(), made.map((m) => m.id).sort());
    assert.equal(r.json.next_page_token, undefined);
    const newer = new Set(made.slice(3).map((m) => m.id));
    assert.ok(newer.has(ids[0]) && newer.has(ids[1]), 'the later second first');
    const e = r.json.interactions.find((x) => x.id === made[1].id);
    assert.equal(e.object, 'interaction');
    assert.equal(e.model, 'demo');
    assert.equal(e.title, 'Question 1');
    assert.equal(e.previous_interaction_id, made[0].id);
    assert.ok(['completed', 'incomplete'].includes(e.status));
    assert.match(e.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const b = await list('', 'key-b');
    assert.deepEqual(b.json.interactions.map((x) => x.title), ['Not yours']);
    const v1 = await list('', 'key-a', 'v1');
    assert.equal(v1.json.interactions.length, 5);
  });

  it('pages with page_size and page_token: every row once, the last page without a token', T, async () => {
    const seen = [];
    let token = '', pages = 0;
    do {
      const r = await list(`?page_size=2${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json.interactions.length <= 2);
      seen.push(...r.json.interactions.map((e) => e.id));
      token = r.json.next_page_token;
      pages++;
    } while (token && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual([...seen].sort(), made.map((m) => m.id).sort());
  });

  it('refuses a bad page_size or page_token by name, and needs the key', T, async () => {
    let r = await list('?page_size=0');
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /^page_size: /);
    r = await list('?page_token=not-ours');
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /^page_token: not a token this server gave/);
    r = await raw(srv.url, 'GET', '/v1beta/interactions');
    assert.equal(r.status, 401);
    r = await raw(srv.url, 'PUT', '/v1beta/interactions', { key: 'key-a' });
    assert.equal(r.status, 405);
  });
});
