// Storage rules from the guide's "data storage and retention" section:
// store defaults to true; store:false persists nothing (a later GET is 404)
// and its id cannot continue a conversation; store:false with
// background:true is a 400; DELETE removes a stored interaction at once.
// A failed interaction keeps the error its run reported: GET (in both
// dialects, also after a restart) gives the same code and message as the
// stream's error event, not a generic "internal".
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAll, T, ID_RE, textOf, sdkErrors, collect, deltaText, pollUntil, assertEnded } from './lib/server.mjs';

let srv;
let ai;
let E;
const CFG = { temperature: 0, max_output_tokens: 8 };

before(async () => {
  srv = await startServer();
  ai = srv.client();
  E = sdkErrors(ai);
}, { timeout: 90_000 });
after(stopAll);

function create(params) {
  return ai.interactions.create({ model: 'demo', generation_config: CFG, ...params });
}

describe('store', () => {
  it('store defaults to true: the interaction can be fetched later', T, async () => {
    const c = await create({ input: 'stored by default' });
    const g = await ai.interactions.get(c.id);
    assert.equal(g.id, c.id);
    assert.deepEqual(g.outputs, c.outputs);
  });

  it('store:false answers normally, but a later GET is 404 not_found', T, async () => {
    const c = await create({ input: 'do not keep this', store: false });
    assertEnded(assert, c);
    assert.match(c.id, ID_RE);
    assert.ok(textOf(c).length > 0);
    assert.ok(c.usage.total_output_tokens >= 1);
    await assert.rejects(ai.interactions.get(c.id), (e) => {
      assert.ok(e instanceof E.NotFoundError, `NotFoundError, got ${e.constructor.name} ${e.status}`);
      return true;
    });
    const r = await srv.raw('GET', `/v1beta/interactions/${c.id}`, { key: 'k' });
    assert.equal(r.status, 404);
    assert.equal(r.json?.error?.code, 'not_found');
    assert.equal(typeof r.json.error.message, 'string');
  });

  it('store:false gives the same greedy text as a stored call', T, async () => {
    const a = await create({ input: 'same either way', store: false });
    const b = await create({ input: 'same either way' });
    assert.equal(textOf(a), textOf(b));
  });

  it('a store:false id cannot be a previous_interaction_id (404 or 400)', T, async () => {
    const c = await create({ input: 'ephemeral turn', store: false });
    await assert.rejects(create({ input: 'continue it', previous_interaction_id: c.id }), (e) => {
      assert.ok(e instanceof E.NotFoundError || e instanceof E.BadRequestError,
        `404 or 400, got ${e.status}: ${e.message}`);
      return true;
    });
  });

  it('store:false may itself continue a stored conversation, and leaves no trace', T, async () => {
    const root = await create({ input: 'stored root' });
    const c = await create({ input: 'unstored follow-up', store: false, previous_interaction_id: root.id });
    assertEnded(assert, c);
    assert.equal(c.previous_interaction_id, root.id);
    await assert.rejects(ai.interactions.get(c.id), E.NotFoundError);
    const g = await ai.interactions.get(root.id);
    assertEnded(assert, g);
  });

  it('store:false with background:true is a 400', T, async () => {
    await assert.rejects(create({ input: 'x', store: false, background: true }), (e) => {
      assert.ok(e instanceof E.BadRequestError, `BadRequestError, got ${e.status}: ${e.message}`);
      assert.match(e.message, /store|background/);
      return true;
    });
    const r = await srv.raw('POST', '/v1beta/interactions', {
      key: 'k', body: { model: 'demo', input: 'x', store: false, background: true },
    });
    assert.equal(r.status, 400);
    assert.equal(r.json?.error?.code, 'invalid_request');
  });

  it('store:false with stream:true streams, then nothing is kept', T, async () => {
    const stream = await create({ input: 'stream but do not keep', store: false, stream: true });
    const events = await collect(stream);
    const start = events.find((e) => e.event_type === 'interaction.start');
    assert.ok(start, 'interaction.start seen');
    assert.ok(deltaText(events).length > 0);
    assert.equal(events[events.length - 1].event_type, 'interaction.complete');
    await assert.rejects(ai.interactions.get(start.interaction.id), E.NotFoundError);
  });
});

describe('retention', () => {
  it('--retention: an expired interaction is gone (GET 404, cannot be continued)', T, async () => {
    const s = await startServer({ retention: '2s' });
    const c2 = s.client();
    const c = await c2.interactions.create({ model: 'demo', input: 'short-lived', generation_config: CFG });
    const g = await c2.interactions.get(c.id);
    assertEnded(assert, g);
    await new Promise((r) => setTimeout(r, 3500));
    await assert.rejects(c2.interactions.get(c.id), E.NotFoundError);
    await assert.rejects(c2.interactions.create({ model: 'demo', input: 'late', previous_interaction_id: c.id, generation_config: CFG }),
      (e) => { assert.ok(e.status === 404 || e.status === 400, `${e.status}`); return true; });
    await s.stop();
  });

  it('the default retention is 55 days (said at start-up)', T, async () => {
    assert.match(srv.stderr(), /retention: 55d/);
  });
});

describe('delete', () => {
  it('DELETE then GET is 404; a second DELETE is 404', T, async () => {
    const c = await create({ input: 'delete me' });
    await ai.interactions.get(c.id);
    const d = await ai.interactions.delete(c.id);
    assert.ok(d === null || d === undefined || typeof d === 'object', `delete answered ${JSON.stringify(d)}`);
    await assert.rejects(ai.interactions.get(c.id), E.NotFoundError);
    await assert.rejects(ai.interactions.delete(c.id), E.NotFoundError);
  });

  it('DELETE answers 2xx on the wire with JSON or no body', T, async () => {
    const c = await create({ input: 'delete me raw' });
    const r = await srv.raw('DELETE', `/v1beta/interactions/${c.id}`, { key: 'k' });
    assert.ok(r.status === 200 || r.status === 204, `status ${r.status}`);
    if (r.status === 200 && r.text.length) assert.equal(typeof r.json, 'object');
    const g = await srv.raw('GET', `/v1beta/interactions/${c.id}`, { key: 'k' });
    assert.equal(g.status, 404);
  });

  it('a deleted interaction cannot be continued (404 or 400); others in the chain remain', T, async () => {
    const i1 = await create({ input: 'first' });
    const i2 = await create({ input: 'second', previous_interaction_id: i1.id });
    await ai.interactions.delete(i2.id);
    await assert.rejects(create({ input: 'third', previous_interaction_id: i2.id }), (e) => {
      assert.ok(e instanceof E.NotFoundError || e instanceof E.BadRequestError, `${e.status}: ${e.message}`);
      return true;
    });
    const g = await ai.interactions.get(i1.id);
    assertEnded(assert, g);
    const again = await create({ input: 'second again', previous_interaction_id: i1.id });
    assertEnded(assert, again);
  });
});

describe('a failed interaction keeps its error', () => {
  it('a prompt longer than the context: GET reports the run\'s invalid_request, also after a restart', { timeout: 120_000 }, async () => {
    // A 64-token context: the long prompt fails in the engine, after the
    // interaction was created and stored, with a client error.
    const s = await startServer({ args: ['--ctx-size', '64'] });
    const c = s.client();
    const input = Array.from({ length: 200 }, (_, i) => `word${i % 10}`).join(' ');
    const req = { model: 'demo', input, generation_config: CFG };

    // Streamed: the error event carries the code.
    const evs = await collect(await c.interactions.create({ ...req, stream: true }));
    const streamedId = evs.find((e) => e.event_type === 'interaction.start')?.interaction?.id;
    assert.match(streamedId || '', ID_RE);
    const errEv = evs.find((e) => e.event_type === 'error');
    assert.equal(errEv?.error?.code, 'invalid_request', JSON.stringify(evs));
    assert.match(errEv.error.message, /context/);

    // Blocking: the create answers 400 with the same code.
    const blocking = await s.raw('POST', '/v1beta/interactions', { key: 'k', body: req });
    assert.equal(blocking.status, 400, blocking.text);
    assert.equal(blocking.json?.error?.code, 'invalid_request');

    // Background: accepted, then failed.
    const bg = await c.interactions.create({ ...req, background: true });
    await pollUntil(() => c.interactions.get(bg.id), (g) => g.status === 'failed', { what: 'the background run to fail' });

    const check = async (srvNow, when) => {
      for (const id of [streamedId, bg.id]) {
        const g = await srvNow.raw('GET', `/v1beta/interactions/${id}`, { key: 'k' });
        assert.equal(g.status, 200, g.text);
        assert.equal(g.json.status, 'failed', `${when}: ${g.text}`);
        assert.equal(g.json.error?.code, 'invalid_request', `${when}: ${g.text}`);
        assert.equal(g.json.error?.message, errEv.error.message, `${when}: ${g.text}`);
        const st = await srvNow.raw('GET', `/v1beta/interactions/${id}`,
          { key: 'k', headers: { 'Api-Revision': '2026-05-20' } });
        assert.equal(st.json?.errors?.[0]?.code, 'invalid_request', `${when} (steps): ${st.text}`);
      }
    };
    await check(s, 'live');
    const s2 = await s.restart();
    await check(s2, 'after a restart');
    await s2.stop();
  });
});
