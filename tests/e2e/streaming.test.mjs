// Streaming (stream: true): the guide's two streaming examples through the
// SDK's stream iterator (printing deltas; rebuilding outputs by index), the
// SSE framing on the wire, event order, unique event ids, the
// interaction.complete payload, resume with last_event_id (also after a
// restart on the same data dir), streaming a running background
// interaction, and a client that disconnects from a non-background stream
// (its generation stops).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, stopAll, T, ID_RE, textOf, collect, deltaText, parseSSE, checkUsage, pollUntil, sleep, longPrompt, LONG_MIN, assertEnded } from './lib/server.mjs';

let srv;
let ai;
const CFG = { temperature: 0, max_output_tokens: 16 };

before(async () => {
  srv = await startServer();
  ai = srv.client();
}, { timeout: 90_000 });
after(stopAll);

function stream(input, cfg = CFG, extra = {}) {
  return ai.interactions.create({ model: 'demo', input, stream: true, generation_config: cfg, ...extra });
}

/** What a replay must reproduce of each event. */
function project(ev) {
  const p = { event_type: ev.event_type, event_id: ev.event_id };
  for (const k of ['index', 'delta', 'content', 'status', 'interaction_id', 'error']) if (k in ev) p[k] = ev[k];
  if (ev.interaction) {
    p.interaction = { id: ev.interaction.id, status: ev.interaction.status, usage: ev.interaction.usage };
  }
  return p;
}

/** Checks the order rules of one interaction's event list; returns its id. */
function checkOrder(events) {
  assert.ok(events.length >= 4, `enough events (${events.length})`);
  const types = events.map((e) => e.event_type);
  assert.equal(types[0], 'interaction.start', `first event: ${types.join(',')}`);
  assert.equal(types[types.length - 1], 'interaction.complete', `last event: ${types.join(',')}`);
  assert.equal(types.filter((t) => t === 'interaction.start').length, 1);
  assert.equal(types.filter((t) => t === 'interaction.complete').length, 1);
  const id = events[0].interaction.id;
  assert.match(id, ID_RE);
  assert.equal(events[0].interaction.status, 'in_progress');
  const open = new Set();
  const seen = new Set();
  for (const e of events) {
    if (e.event_type === 'content.start') {
      assert.equal(typeof e.index, 'number');
      assert.ok(!open.has(e.index) && !seen.has(e.index), `index ${e.index} opened once`);
      assert.ok(e.content && typeof e.content.type === 'string', 'content.start names its content type');
      open.add(e.index); seen.add(e.index);
    } else if (e.event_type === 'content.delta') {
      assert.ok(open.has(e.index), `delta for an open index (${e.index})`);
      assert.ok(e.delta && typeof e.delta.type === 'string');
    } else if (e.event_type === 'content.stop') {
      assert.ok(open.has(e.index), `stop for an open index (${e.index})`);
      open.delete(e.index);
    } else if (e.event_type === 'interaction.status_update') {
      assert.equal(e.interaction_id, id);
      assert.ok(['in_progress', 'completed', 'failed', 'cancelled', 'incomplete', 'requires_action'].includes(e.status));
    } else {
      assert.ok(['interaction.start', 'interaction.complete'].includes(e.event_type), `unexpected event ${e.event_type}`);
    }
  }
  assert.equal(open.size, 0, 'every content block was closed');
  assert.ok(seen.size >= 1, 'at least one content block');
  return id;
}

describe('streaming through the SDK', () => {
  it('guide: print content.delta text, then usage from interaction.complete', T, async () => {
    const s = await stream('Explain quantum entanglement in simple terms.');
    let printed = '';
    let totalTokens;
    for await (const chunk of s) {
      if (chunk.event_type === 'content.delta') {
        if (chunk.delta.type === 'text' && 'text' in chunk.delta) printed += chunk.delta.text;
        else if (chunk.delta.type === 'thought' && 'thought' in chunk.delta) printed += chunk.delta.thought;
      } else if (chunk.event_type === 'interaction.complete') {
        totalTokens = chunk.interaction.usage.total_tokens;
      }
    }
    assert.ok(printed.length > 0, 'some text was streamed');
    assert.equal(typeof totalTokens, 'number');
    assert.ok(totalTokens > 0);
  });

  it('guide: rebuilding outputs by index equals the stored outputs (and the non-streamed text)', T, async () => {
    const s = await stream('Write a haiku about Python programming.');
    const outputs = new Map();
    let usage = null;
    let id = null;
    for await (const chunk of s) {
      if (chunk.event_type === 'interaction.start') id = chunk.interaction.id;
      if (chunk.event_type === 'content.start') {
        outputs.set(chunk.index, { type: chunk.content.type });
      } else if (chunk.event_type === 'content.delta') {
        const output = outputs.get(chunk.index);
        if (chunk.delta.type === 'text') output.text = (output.text || '') + chunk.delta.text;
        else if (chunk.delta.type === 'thought_signature') output.signature = chunk.delta.signature;
        else if (chunk.delta.type === 'thought_summary') output.summary = (output.summary || '') + (chunk.delta.content?.text || '');
      } else if (chunk.event_type === 'interaction.complete') {
        usage = chunk.interaction.usage;
      }
    }
    const finalOutputs = [...outputs.entries()].sort((a, b) => a[0] - b[0]).map(([, o]) => o);
    assert.ok(finalOutputs.length >= 1);
    assert.ok(id, 'interaction.start carried the id');
    const stored = await ai.interactions.get(id);
    assertEnded(assert, stored);
    assert.deepEqual(finalOutputs.map((o) => ({ type: o.type, text: o.text })),
      stored.outputs.map((o) => ({ type: o.type, text: o.text })));
    assert.deepEqual(usage, stored.usage, 'usage in interaction.complete equals the stored usage');
    const plain = await ai.interactions.create({ model: 'demo', input: 'Write a haiku about Python programming.', generation_config: CFG });
    assert.equal(finalOutputs.map((o) => o.text || '').join(''), textOf(plain), 'streamed text equals the non-streamed greedy text');
  });

  it('event order, unique event_ids, and the interaction.complete payload', T, async () => {
    const events = await collect(await stream('Order, please.'));
    const id = checkOrder(events);
    const ids = events.map((e) => e.event_id);
    for (const eid of ids) assert.ok(typeof eid === 'string' && eid.length > 0, `every event has an event_id (${JSON.stringify(eid)})`);
    assert.equal(new Set(ids).size, ids.length, 'event_ids are unique');
    const complete = events[events.length - 1];
    assert.equal(complete.interaction.id, id);
    assertEnded(assert, complete.interaction);
    checkUsage(assert, complete.interaction.usage, { maxOutput: CFG.max_output_tokens });
    assert.ok(!complete.interaction.outputs || complete.interaction.outputs.length === 0,
      'interaction.complete leaves outputs out');
    const deltas = events.filter((e) => e.event_type === 'content.delta');
    assert.ok(deltas.length >= 1);
    assert.ok(deltas.every((d) => d.delta.type === 'text'));
  });

  it('event_ids stay unique across interactions', T, async () => {
    const a = await collect(await stream('first stream'));
    const b = await collect(await stream('second stream'));
    const all = [...a, ...b].map((e) => e.event_id);
    assert.equal(new Set(all).size, all.length);
  });
});

describe('SSE on the wire', () => {
  it('frames are "event: X\\ndata: {json}\\n\\n" with event_type = X, ending with event: done / data: [DONE]', T, async () => {
    const r = await srv.raw('POST', '/v1beta/interactions', {
      key: 'k', body: { model: 'demo', input: 'wire check', stream: true, generation_config: CFG },
    });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') || '', /^text\/event-stream/);
    const { frames, endsWithBlankLine } = parseSSE(r.text);
    assert.ok(endsWithBlankLine, 'the body ends with a blank line (else the SDK drops the last frame)');
    assert.ok(frames.length >= 5);
    const last = frames[frames.length - 1];
    assert.equal(last.event, 'done');
    assert.equal(last.data, '[DONE]');
    for (const f of frames.slice(0, -1)) {
      assert.ok(f.event, `an event: line in ${JSON.stringify(f.raw)}`);
      assert.ok(f.data !== undefined, `a data: line in ${JSON.stringify(f.raw)}`);
      assert.ok(f.json, `data is JSON: ${JSON.stringify(f.data)}`);
      assert.equal(f.json.event_type, f.event);
      assert.ok(!f.data.includes('\n'), 'compact one-line JSON');
    }
    checkOrder(frames.slice(0, -1).map((f) => f.json));
  });

  it('POST ?alt=sse with stream:true is tolerated', T, async () => {
    const r = await srv.raw('POST', '/v1beta/interactions?alt=sse', {
      key: 'k', body: { model: 'demo', input: 'alt sse', stream: true, generation_config: CFG },
    });
    assert.equal(r.status, 200, r.text);
    const { frames } = parseSSE(r.text);
    assert.equal(frames[frames.length - 1].data, '[DONE]');
  });

  it('GET ?stream=true of a finished interaction replays its events on the wire', T, async () => {
    const c = await ai.interactions.create({ model: 'demo', input: 'replay me', generation_config: CFG });
    const r = await srv.raw('GET', `/v1beta/interactions/${c.id}?stream=true`, { key: 'k' });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') || '', /^text\/event-stream/);
    const { frames } = parseSSE(r.text);
    const events = frames.filter((f) => f.data !== '[DONE]').map((f) => f.json);
    checkOrder(events);
    assert.equal(deltaText(events), textOf(c), 'a non-streamed create also has a replayable event log');
  });
});

describe('resume with last_event_id', () => {
  it('get(id, {stream:true, last_event_id}) yields exactly the events after it; without it, all of them', T, async () => {
    const full = await collect(await stream('Resume from the middle.', { temperature: 0, max_output_tokens: 24 }));
    const id = checkOrder(full);
    const k = Math.floor(full.length / 2);
    const after_ = await collect(await ai.interactions.get(id, { stream: true, last_event_id: full[k].event_id }));
    assert.deepEqual(after_.map(project), full.slice(k + 1).map(project));
    const all = await collect(await ai.interactions.get(id, { stream: true }));
    assert.deepEqual(all.map(project), full.map(project));
    const none = await collect(await ai.interactions.get(id, { stream: true, last_event_id: full[full.length - 1].event_id }));
    assert.deepEqual(none.map(project), [], 'nothing follows the last event');
    const first = await collect(await ai.interactions.get(id, { stream: true, last_event_id: full[0].event_id }));
    assert.deepEqual(first.map(project), full.slice(1).map(project));
  });

  it('resume works after a restart on the same data dir', T, async () => {
    const s1 = await startServer();
    const ai1 = s1.client();
    const full = await collect(await ai1.interactions.create({
      model: 'demo', input: 'Survive a restart.', stream: true, generation_config: { temperature: 0, max_output_tokens: 20 },
    }));
    const id = checkOrder(full);
    const k = Math.floor(full.length / 3);
    await s1.stop();
    const s2 = await s1.restart();
    const ai2 = s2.client();
    const after_ = await collect(await ai2.interactions.get(id, { stream: true, last_event_id: full[k].event_id }));
    assert.deepEqual(after_.map(project), full.slice(k + 1).map(project));
    const g = await ai2.interactions.get(id);
    assertEnded(assert, g);
    assert.equal(textOf(g), deltaText(full));
    await s2.stop();
  });

  it('streaming a running background interaction delivers its whole event log', T, async () => {
    const bg = await ai.interactions.create({
      model: 'demo', input: await longPrompt(ai), background: true,
      generation_config: { temperature: 0, max_output_tokens: 2000 },
    });
    assert.equal(bg.status, 'in_progress');
    const s = await ai.interactions.get(bg.id, { stream: true });
    const events = [];
    let runningAtFirstDelta = null;
    for await (const ev of s) {
      events.push(ev);
      if (ev.event_type === 'content.delta' && runningAtFirstDelta === null) {
        runningAtFirstDelta = (await ai.interactions.get(bg.id)).status === 'in_progress';
      }
    }
    assert.equal(runningAtFirstDelta, true, 'the stream was followed live (the run was still going)');
    checkOrder(events);
    assert.equal(events[0].interaction.id, bg.id);
    const done = await pollUntil(() => ai.interactions.get(bg.id), (g) => g.status !== 'in_progress', { what: 'completion' });
    assertEnded(assert, done);
    assert.equal(deltaText(events), textOf(done));
    assert.equal(events[events.length - 1].interaction.status, 'completed');
  });
});

describe('client disconnect', () => {
  it('aborting a non-background stream (AbortController) stops its generation', T, async () => {
    const MAX = 2000;
    const input = await longPrompt(ai);
    // An attempt where the whole run reached the client before its abort
    // (the demo model outpacing a slow client) proves nothing: try again.
    let id = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      const ac = new AbortController();
      const s = await ai.interactions.create({
        model: 'demo', input, stream: true,
        generation_config: { temperature: 0, max_output_tokens: MAX },
      }, { signal: ac.signal });
      id = null;
      let sawComplete = false;
      let deltas = 0;
      try {
        for await (const ev of s) {
          if (ev.event_type === 'interaction.start') id = ev.interaction.id;
          if (ev.event_type === 'interaction.complete') sawComplete = true;
          if (ev.event_type === 'content.delta' && ++deltas === 1) ac.abort();
        }
      } catch (e) {
        assert.ok(/abort/i.test(`${e.name} ${e.message}`), `the iterator stops with an abort error, got ${e.name}: ${e.message}`);
      }
      assert.ok(id, 'interaction.start arrived before the abort');
      if (!sawComplete) break;
      assert.ok(attempt < 2, 'in three attempts the run always finished before the client could abort');
    }
    const final = await pollUntil(() => ai.interactions.get(id), (g) => g.status !== 'in_progress',
      { what: 'the aborted run to end', timeoutMs: 45_000 });
    assert.notEqual(final.status, 'completed', `the run was stopped, not finished (usage ${JSON.stringify(final.usage)})`);
    assert.ok(['cancelled', 'failed', 'incomplete'].includes(final.status), `status ${final.status}`);
    if (final.usage) {
      assert.ok(final.usage.total_output_tokens < LONG_MIN,
        `stopped early: ${final.usage.total_output_tokens} tokens (uncut it runs >= ${LONG_MIN})`);
    }
    // The server stays healthy afterwards.
    await sleep(50);
    const next = await ai.interactions.create({ model: 'demo', input: 'still there?', generation_config: CFG });
    assertEnded(assert, next);
  });
});
