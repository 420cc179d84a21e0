// Background runs (background: true): the create answers at once with
// in_progress and no outputs/usage keys (checked on the raw JSON), the
// guide's polling loop reaches completed, the result equals a synchronous
// greedy run, cancel stops a long run keeping its partial outputs, and a
// client that drops a background *stream* does not stop the run.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, stopAll, T, ID_RE, RFC3339_SECONDS, textOf, checkUsage, pollUntil, sdkErrors, sleep, collect, deltaText, longPrompt, LONG_MIN, assertEnded } from './lib/server.mjs';

let srv;
let ai;
let E;
let LONG_INPUT;
const LONG = 2000;

before(async () => {
  srv = await startServer();
  ai = srv.client();
  E = sdkErrors(ai);
  LONG_INPUT = await longPrompt(ai);
}, { timeout: 90_000 });
after(stopAll);

/** The guide's loop: poll get() until completed, failed or cancelled. */
async function pollToEnd(id, timeoutMs = 45_000) {
  return pollUntil(() => ai.interactions.get(id), (i) => ['completed', 'failed', 'cancelled', 'incomplete'].includes(i.status),
    { timeoutMs, intervalMs: 50, what: `interaction ${id} to end` });
}

/** Waits until a running interaction has produced at least one text delta. */
async function firstDelta(id) {
  const s = await ai.interactions.get(id, { stream: true });
  let text = '';
  for await (const ev of s) {
    if (ev.event_type === 'content.delta' && ev.delta.type === 'text') { text = ev.delta.text; break; }
    if (ev.event_type === 'interaction.complete') break;
  }
  return text;
}

describe('background', () => {
  it('answers at once with in_progress and no outputs / usage keys (raw JSON)', T, async () => {
    const r = await srv.raw('POST', '/v1beta/interactions', {
      key: 'k', body: { model: 'demo', input: 'Work in the background.', background: true,
        generation_config: { temperature: 0, max_output_tokens: 16 } },
    });
    assert.equal(r.status, 200, r.text);
    const j = r.json;
    assert.equal(j.status, 'in_progress');
    assert.match(j.id, ID_RE);
    assert.equal(j.object, 'interaction');
    assert.match(j.created, RFC3339_SECONDS);
    assert.ok(!('outputs' in j), `no outputs key: ${r.text}`);
    assert.ok(!('usage' in j), `no usage key: ${r.text}`);
    const done = await pollToEnd(j.id);
    assertEnded(assert, done);
  });

  it("guide: poll interactions.get until completed, then read outputs[outputs.length - 1].text", T, async () => {
    const initialInteraction = await ai.interactions.create({
      model: 'demo', input: 'Research the history of the Google TPUs.', background: true,
      generation_config: { temperature: 0, max_output_tokens: 24 },
    });
    assert.equal(initialInteraction.status, 'in_progress');
    let interaction;
    for (let i = 0; i < 900; i++) {
      interaction = await ai.interactions.get(initialInteraction.id);
      if (interaction.status === 'completed') break;
      // A run cut by max_output_tokens ends 'incomplete' (the guide's loop
      // waits for 'completed' only): every status but in_progress is final.
      if (['failed', 'cancelled', 'incomplete'].includes(interaction.status)) break;
      if (interaction.status === 'in_progress') {
        const rawGet = await srv.raw('GET', `/v1beta/interactions/${initialInteraction.id}`, { key: 'k' });
        if (rawGet.json.status === 'in_progress') {
          assert.ok(!('usage' in rawGet.json), 'no usage while in progress');
        }
      }
      await sleep(50);
    }
    assertEnded(assert, interaction);
    assert.ok(interaction.outputs[interaction.outputs.length - 1].text.length > 0);
    checkUsage(assert, interaction.usage, { maxOutput: 24 });
    assert.match(interaction.updated, RFC3339_SECONDS);
    assert.ok(Date.parse(interaction.updated) >= Date.parse(interaction.created));
  });

  it('a background run gives the same greedy text as a synchronous one', T, async () => {
    const cfg = { temperature: 0, max_output_tokens: 20 };
    const bg = await ai.interactions.create({ model: 'demo', input: 'Same in both modes.', background: true, generation_config: cfg });
    const done = await pollToEnd(bg.id);
    const sync = await ai.interactions.create({ model: 'demo', input: 'Same in both modes.', generation_config: cfg });
    assert.equal(textOf(done), textOf(sync));
    // Equal but for total_cached_tokens: a run may reuse the computed prompt of an earlier one.
    const { total_cached_tokens: c1, cached_tokens_by_modality: m1, ...u1 } = done.usage,
      { total_cached_tokens: c2, cached_tokens_by_modality: m2, ...u2 } = sync.usage;
    assert.deepEqual(u1, u2);
    assert.ok(c1 < u1.total_input_tokens && c2 < u2.total_input_tokens, `cached ${c1}, ${c2}`);
  });

  it('background turns chain like any other', T, async () => {
    const bg = await ai.interactions.create({ model: 'demo', input: 'background first turn', background: true,
      generation_config: { temperature: 0, max_output_tokens: 8 } });
    await pollToEnd(bg.id);
    const next = await ai.interactions.create({ model: 'demo', input: 'second', previous_interaction_id: bg.id,
      generation_config: { temperature: 0, max_output_tokens: 8 } });
    assertEnded(assert, next);
    assert.equal(next.previous_interaction_id, bg.id);
  });

  it('cancel stops a long run: status cancelled, partial outputs kept', T, async () => {
    const bg = await ai.interactions.create({
      model: 'demo', input: LONG_INPUT, background: true,
      generation_config: { temperature: 0, max_output_tokens: LONG },
    });
    const first = await firstDelta(bg.id);
    const cancelled = await ai.interactions.cancel(bg.id);
    assert.equal(cancelled.id, bg.id);
    assert.equal(cancelled.status, 'cancelled', `cancel answered ${cancelled.status} (did the run finish before the cancel?)`);
    const g = await ai.interactions.get(bg.id);
    assert.equal(g.status, 'cancelled');
    const text = textOf(g);
    assert.ok(text.length > 0, 'partial outputs kept');
    assert.ok(text.startsWith(first), 'the kept text begins with the first streamed delta');
    assert.ok(g.usage, 'usage present once ended');
    checkUsage(assert, g.usage);
    assert.ok(g.usage.total_output_tokens >= 1 && g.usage.total_output_tokens < LONG_MIN,
      `partial token count (${g.usage.total_output_tokens}; uncancelled it runs >= ${LONG_MIN})`);
    // It stays cancelled: no late completion.
    await sleep(300);
    const later = await ai.interactions.get(bg.id);
    assert.equal(later.status, 'cancelled');
    assert.equal(textOf(later), text);
    // Its event log ends, and says cancelled.
    const events = await collect(await ai.interactions.get(bg.id, { stream: true }));
    const statuses = events.filter((e) => e.event_type === 'interaction.status_update').map((e) => e.status);
    const complete = events.find((e) => e.event_type === 'interaction.complete');
    assert.ok(statuses.includes('cancelled') || complete?.interaction?.status === 'cancelled',
      `the event log records the cancel: ${JSON.stringify(events.map((e) => e.event_type))}`);
    assert.equal(deltaText(events), text, 'replayed deltas equal the kept text');
  });

  it('a cancelled interaction can still continue a conversation', T, async () => {
    const bg = await ai.interactions.create({ model: 'demo', input: LONG_INPUT, background: true,
      generation_config: { temperature: 0, max_output_tokens: LONG } });
    await firstDelta(bg.id);
    const c = await ai.interactions.cancel(bg.id);
    assert.equal(c.status, 'cancelled');
    const next = await ai.interactions.create({ model: 'demo', input: 'go on', previous_interaction_id: bg.id,
      generation_config: { temperature: 0, max_output_tokens: 8 } });
    assertEnded(assert, next);
  });

  it('cancel of a finished interaction leaves it unchanged (or is refused with a 4xx)', T, async () => {
    const done = await ai.interactions.create({ model: 'demo', input: 'finished already',
      generation_config: { temperature: 0, max_output_tokens: 6 } });
    try {
      const r = await ai.interactions.cancel(done.id);
      assertEnded(assert, r);
      assert.deepEqual(r.outputs, done.outputs);
    } catch (e) {
      assert.ok(e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 409 && e.status !== 429,
        `a non-retried 4xx, got ${e.status}`);
    }
    const g = await ai.interactions.get(done.id);
    assertEnded(assert, g);
  });

  it('cancel of an unknown id is 404', T, async () => {
    await assert.rejects(ai.interactions.cancel('v1_doesnotexist0000000000'), E.NotFoundError);
  });

  it('dropping a background stream does not stop the run', T, async () => {
    const ac = new AbortController();
    const s = await ai.interactions.create({
      model: 'demo', input: 'Keep going without me.', background: true, stream: true,
      generation_config: { temperature: 0, max_output_tokens: 200 },
    }, { signal: ac.signal });
    let id = null;
    try {
      for await (const ev of s) {
        if (ev.event_type === 'interaction.start') id = ev.interaction.id;
        if (ev.event_type === 'content.delta') { ac.abort(); }
      }
    } catch { /* aborted */ }
    assert.ok(id);
    const done = await pollToEnd(id);
    assertEnded(assert, done);
    const sync = await ai.interactions.create({ model: 'demo', input: 'Keep going without me.',
      generation_config: { temperature: 0, max_output_tokens: 200 } });
    assert.equal(textOf(done), textOf(sync), 'the whole run was generated');
  });

  it('continuing from an interaction still in progress is refused with a 4xx (not a retried status)', T, async () => {
    const bg = await ai.interactions.create({ model: 'demo', input: LONG_INPUT, background: true,
      generation_config: { temperature: 0, max_output_tokens: LONG } });
    await firstDelta(bg.id);
    let err = null;
    try {
      await ai.interactions.create({ model: 'demo', input: 'too early', previous_interaction_id: bg.id,
        generation_config: { temperature: 0, max_output_tokens: 4 } });
    } catch (e) { err = e; }
    const state = await ai.interactions.get(bg.id);
    if (state.status === 'in_progress' || err) {
      assert.ok(err, 'refused while the previous turn runs');
      assert.equal(err.status, 400, `status ${err.status}: ${err.message}`);
    }
    await ai.interactions.cancel(bg.id);
  });
});
