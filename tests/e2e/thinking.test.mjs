// Thinking (the guide's "Pensando") on the demo model served under a
// reasoning chat template (DeepSeek-R1's, from the llama.cpp bundle: its
// generation prompt opens a <think> block, which a random model never
// closes by itself, so the thinking budget is what ends it). Checks the
// thought output before the answer (summary + signature), the budgets of
// thinking_level, thinking_summaries "none", total_thought_tokens, the
// stream's thought deltas, and that a thought sent back in a stateless
// history is accepted only with the signature this server made. The thought
// and the text stream live (the engine re-parses the text as it grows); the
// signature, sealing the whole reasoning, comes when the reasoning ends.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, stopAll, T, collect, DEMO_MODEL, REPO_ROOT, sdkErrors, assertEnded } from './lib/server.mjs';
import { client3 } from './lib/steps.mjs';

let srv;
let ai;
const R1 = path.join(REPO_ROOT, 'build/llama.cpp/models/templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja');

before(async () => {
  srv = await startServer({ models: { demo: DEMO_MODEL, think: DEMO_MODEL }, args: ['--chat-template', `think=${R1}`] });
  ai = srv.client();
}, { timeout: 90_000 });
after(stopAll);

const create = (cfg, extra = {}) => ai.interactions.create({
  model: 'think', input: 'Why is the sky blue?', generation_config: { seed: 1, max_output_tokens: 700, ...cfg }, ...extra,
});

describe('thinking', () => {
  it('a thought (summary + signature) comes before the answer; usage counts it', T, async () => {
    const it1 = await create({ thinking_level: 'low' });
    assertEnded(assert, it1);
    assert.equal(it1.outputs[0].type, 'thought');
    assert.match(it1.outputs[0].signature, /^v1\.[A-Za-z0-9_-]+$/);
    assert.equal(it1.outputs[0].summary[0].type, 'text');
    assert.ok(it1.outputs[0].summary[0].text.length > 0);
    assert.equal(it1.outputs[it1.outputs.length - 1].type, 'text');
    const u = it1.usage;
    assert.ok(u.total_thought_tokens > 0 && u.total_thought_tokens <= 512 + 32, `thought tokens ${u.total_thought_tokens}`);
    assert.equal(u.total_tokens, u.total_input_tokens + u.total_output_tokens + u.total_thought_tokens);
  });

  it('thinking_level budgets: minimal thinks not at all, low and medium stay within theirs', T, async () => {
    const minimal = await create({ thinking_level: 'minimal', max_output_tokens: 40 });
    assert.ok(minimal.outputs.every((o) => o.type !== 'thought'));
    assert.equal(minimal.usage.total_thought_tokens, 0);
    const low = await create({ thinking_level: 'low', max_output_tokens: 2600 });
    const medium = await create({ thinking_level: 'medium', max_output_tokens: 2600 });
    assert.ok(low.usage.total_thought_tokens <= 512 + 32, `low ${low.usage.total_thought_tokens}`);
    // (a budget, plus the end tag it forces); the same seed: the same
    // reasoning until the smaller budget cuts it
    assert.ok(medium.usage.total_thought_tokens >= low.usage.total_thought_tokens, `medium ${medium.usage.total_thought_tokens}`);
    assert.ok(medium.usage.total_thought_tokens <= 2048 + 32);
    assert.ok(low.usage.total_thought_tokens > 0);
  });

  it('thinking_summaries none: the thought keeps its signature, no summary', T, async () => {
    const it1 = await create({ thinking_level: 'low', thinking_summaries: 'none' });
    const th = it1.outputs.find((o) => o.type === 'thought');
    assert.ok(th.signature);
    assert.equal(th.summary, undefined);
  });

  it('streaming: content.start thought, thought_summary and thought_signature deltas, content.stop', T, async () => {
    const events = await collect(await create({ thinking_level: 'low' }, { stream: true }));
    const start = events.find((e) => e.event_type === 'content.start' && e.content.type === 'thought');
    assert.ok(start);
    const deltas = events.filter((e) => e.event_type === 'content.delta' && e.index === start.index).map((e) => e.delta.type);
    // the summary as it is generated (several deltas), then the signature that seals it
    assert.ok(deltas.length >= 3, `deltas ${deltas}`);
    assert.deepEqual(deltas, [...deltas.slice(0, -1).map(() => 'thought_summary'), 'thought_signature']);
    assert.ok(events.some((e) => e.event_type === 'content.stop' && e.index === start.index));
    // (this seed's reasoning ends at the end of generation, unclosed: the
    // final parse still agrees with the live one)
    const stored = await ai.interactions.get(events.find((e) => e.event_type === 'interaction.start').interaction.id);
    assert.equal(events.filter((e) => e.delta?.type === 'thought_summary').map((e) => e.delta.content.text).join(''),
      stored.outputs.find((o) => o.type === 'thought').summary[0].text);
  });

  it('streaming is live: the summary and the text arrive in pieces, in order, and add up to what is stored; the signature verifies', T, async () => {
    // (a seed whose reasoning runs into the budget, so an answer follows it)
    const events = await collect(await create({ thinking_level: 'low', seed: 33 }, { stream: true }));
    const types = events.map((e) => e.event_type);
    const id = events.find((e) => e.event_type === 'interaction.start').interaction.id;
    const th = events.findIndex((e) => e.event_type === 'content.start' && e.content.type === 'thought');
    const ti = events.findIndex((e) => e.event_type === 'content.start' && e.content.type === 'text');
    assert.ok(th >= 0 && ti > th, `a thought block, then a text block: ${types}`);
    const tIndex = events[th].index, xIndex = events[ti].index;
    assert.equal(xIndex, tIndex + 1);
    const at = (pred) => events.map((e, i) => [e, i]).filter(([e]) => pred(e));
    const sums = at((e) => e.event_type === 'content.delta' && e.index === tIndex && e.delta.type === 'thought_summary');
    const sig = at((e) => e.event_type === 'content.delta' && e.index === tIndex && e.delta.type === 'thought_signature');
    const thStop = at((e) => e.event_type === 'content.stop' && e.index === tIndex);
    const texts = at((e) => e.event_type === 'content.delta' && e.index === xIndex);
    const end = events.findIndex((e) => e.event_type === 'interaction.complete' || (e.event_type === 'interaction.status_update' && e.status !== 'in_progress'));
    assert.ok(sums.length >= 3, `several summary deltas (${sums.length})`);
    assert.ok(sums[0][1] < end && sums[0][1] > th, 'the first summary delta comes after the start, before the run ends');
    // the thought is whole (signature, stop) before the text begins
    assert.equal(sig.length, 1);
    assert.ok(sums.every(([, i]) => i < sig[0][1]) && sig[0][1] < thStop[0][1] && thStop[0][1] < ti);
    assert.ok(texts.length >= 2, `the text in several deltas (${texts.length})`);
    assert.ok(texts.every(([, i]) => i > ti && i < end));
    const stored = await ai.interactions.get(id);
    assertEnded(assert, stored);
    const thought = stored.outputs.find((o) => o.type === 'thought');
    assert.equal(sums.map(([e]) => e.delta.content.text).join(''), thought.summary[0].text);
    assert.equal(sig[0][0].delta.signature, thought.signature);
    const text = stored.outputs.filter((o) => o.type === 'text').map((o) => o.text).join('');
    assert.equal(texts.map(([e]) => e.delta.text).join(''), text);
    // the streamed signature seals the reasoning: a stateless replay of it is accepted
    const replay = [{ role: 'user', content: 'Why is the sky blue?' },
      { role: 'model', content: [{ type: 'thought', signature: sig[0][0].delta.signature }, { type: 'text', text }] },
      { role: 'user', content: 'And sunsets?' }];
    const it2 = await ai.interactions.create({ model: 'think', input: replay, generation_config: { seed: 2, max_output_tokens: 40, thinking_level: 'low' }, store: false });
    assertEnded(assert, it2);
  });

  it('a run cancelled while it thinks: its stream had the summary so far, the thought block closed, no signature', T, async () => {
    // (a seed whose reasoning runs well over a thousand tokens)
    const bg = await create({ thinking_level: 'high', seed: 35, max_output_tokens: 6000 }, { background: true });
    const s = await ai.interactions.get(bg.id, { stream: true });
    let first = null;
    for await (const ev of s) {
      if (ev.event_type === 'content.delta' && ev.delta.type === 'thought_summary') { first = ev; break; }
      if (ev.event_type === 'interaction.complete') break;
    }
    assert.ok(first, 'a summary delta while the model thinks');
    const c = await ai.interactions.cancel(bg.id);
    assert.equal(c.status, 'cancelled', `cancel answered ${c.status} (the summary came only at the end?)`);
    const events = await collect(await ai.interactions.get(bg.id, { stream: true }));
    const th = events.find((e) => e.event_type === 'content.start' && e.content.type === 'thought');
    assert.ok(events.some((e) => e.event_type === 'content.stop' && e.index === th.index), 'the thought block is closed');
    assert.ok(!events.some((e) => e.event_type === 'content.delta' && e.delta.type === 'thought_signature'));
    assert.ok(!events.some((e) => e.event_type === 'content.start' && e.content.type === 'text'));
    // The stored record is what streamed: the thought so far (sealed), not
    // the raw output with its thinking block as text.
    const summary = events.filter((e) => e.event_type === 'content.delta' && e.delta.type === 'thought_summary')
      .map((e) => e.delta.content.text).join('');
    const got = await ai.interactions.get(bg.id);
    assert.equal(got.status, 'cancelled');
    assert.equal(got.outputs[0].type, 'thought');
    assert.equal(got.outputs[0].summary[0].text, summary);
    assert.match(got.outputs[0].signature, /^v1\.[A-Za-z0-9_-]+$/);
    assert.ok(!got.outputs.some((o) => o.type === 'text' && o.text.includes(summary.slice(0, 20))),
      'no text output repeats the reasoning');
  });

  it('a NUL byte the model emits inside its reasoning does not cut off the rest (seed 29 emits one)', T, async () => {
    // The engine's parse reads the output as a C string; before NUL bytes
    // were dropped there (as core drops them from text), this run stored an
    // empty answer after 180 output tokens.
    const r = await ai.interactions.create({ model: 'think', input: 'Why is the sky blue?',
      generation_config: { seed: 29, temperature: 1, thinking_level: 'low' } });
    assertEnded(assert, r);
    const text = r.outputs.filter((o) => o.type === 'text').map((o) => o.text).join('');
    assert.ok(r.usage.total_output_tokens > 0, JSON.stringify(r.usage));
    assert.ok(text.length > 100, `the answer after the reasoning survives: ${JSON.stringify(text.slice(0, 80))}`);
    assert.ok(!text.includes('\u0000'));
  });

  it('stateless: the thought goes back with its signature; a forged one is a 400', T, async () => {
    const it1 = await create({ thinking_level: 'low' }, { store: false });
    const history = [{ role: 'user', content: 'Why is the sky blue?' }, { role: 'model', content: it1.outputs }, { role: 'user', content: 'And sunsets?' }];
    const it2 = await ai.interactions.create({ model: 'think', input: history, generation_config: { seed: 2, max_output_tokens: 600, thinking_level: 'low' }, store: false });
    assertEnded(assert, it2);
    const { BadRequestError } = sdkErrors(ai);
    const forged = JSON.parse(JSON.stringify(history));
    const th = forged[1].content.find((o) => o.type === 'thought');
    th.signature = th.signature.slice(0, -4) + (th.signature.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    await assert.rejects(ai.interactions.create({ model: 'think', input: forged }),
      (e) => e instanceof BadRequestError && /signature is not valid/.test(e.message));
    const made = JSON.parse(JSON.stringify(history));
    made[1].content.find((o) => o.type === 'thought').signature = 'v1.bm90IG91cnM';
    await assert.rejects(ai.interactions.create({ model: 'think', input: made }), (e) => e instanceof BadRequestError);
  });

  it('a model that does not reason accepts thinking_level and shows no thought', T, async () => {
    const it1 = await ai.interactions.create({ model: 'demo', input: 'hi', generation_config: { thinking_level: 'high', max_output_tokens: 8 } });
    assertEnded(assert, it1);
    assert.ok(it1.outputs.every((o) => o.type === 'text'));
    assert.equal(it1.usage.total_thought_tokens, 0);
  });

  it('SDK 3.x (steps): a thought step, thinking_level echoed', T, async () => {
    const ai3 = client3(srv);
    const it1 = await ai3.interactions.create({ model: 'think', input: 'Why?', generation_config: { seed: 3, max_output_tokens: 600, thinking_level: 'low' } });
    const th = it1.steps.find((s) => s.type === 'thought');
    assert.ok(th && th.signature && th.summary[0].text.length > 0);
    assert.equal(it1.generation_config.thinking_level, 'low');
  });

  it('SDK 3.x (steps) streaming: the thought step streams its summary live, then its signature, then the text step', T, async () => {
    const ai3 = client3(srv);
    const events = await collect(await ai3.interactions.create({ model: 'think', input: 'Why is the sky blue?', stream: true,
      generation_config: { seed: 33, max_output_tokens: 700, thinking_level: 'low' } }));
    const starts = events.filter((e) => e.event_type === 'step.start').map((e) => e.step.type);
    assert.deepEqual(starts, ['thought', 'model_output']);
    const deltas = events.filter((e) => e.event_type === 'step.delta').map((e) => `${e.index}:${e.delta.type}`);
    const nSum = deltas.filter((d) => d === '0:thought_summary').length;
    const nText = deltas.filter((d) => d === '1:text').length;
    assert.ok(nSum >= 3 && nText >= 2, `deltas ${deltas}`);
    assert.deepEqual(deltas, [...Array(nSum).fill('0:thought_summary'), '0:thought_signature', ...Array(nText).fill('1:text')]);
    const done = events.find((e) => e.event_type === 'interaction.completed');
    const stored = await ai3.interactions.get(done.interaction.id);
    const th = stored.steps.find((s) => s.type === 'thought');
    assert.equal(events.filter((e) => e.event_type === 'step.delta' && e.delta.type === 'thought_summary')
      .map((e) => e.delta.content.text).join(''), th.summary[0].text);
  });
});
