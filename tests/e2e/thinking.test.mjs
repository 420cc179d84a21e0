// Thinking (the guide's "Pensando") on the demo model served under a
// reasoning chat template (DeepSeek-R1's, from the llama.cpp bundle: its
// generation prompt opens a <think> block, which a random model never
// closes by itself, so the thinking budget is what ends it). Checks the
// thought output before the answer (summary + signature), the budgets of
// thinking_level, thinking_summaries "none", total_thought_tokens, the
// stream's thought deltas, and that a thought sent back in a stateless
// history is accepted only with the signature this server made.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, stopAll, T, collect, DEMO_MODEL, REPO_ROOT, sdkErrors } from './lib/server.mjs';
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
    assert.equal(it1.status, 'completed');
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
    assert.deepEqual(deltas, ['thought_summary', 'thought_signature']);
    assert.ok(events.some((e) => e.event_type === 'content.stop' && e.index === start.index));
  });

  it('stateless: the thought goes back with its signature; a forged one is a 400', T, async () => {
    const it1 = await create({ thinking_level: 'low' }, { store: false });
    const history = [{ role: 'user', content: 'Why is the sky blue?' }, { role: 'model', content: it1.outputs }, { role: 'user', content: 'And sunsets?' }];
    const it2 = await ai.interactions.create({ model: 'think', input: history, generation_config: { seed: 2, max_output_tokens: 600, thinking_level: 'low' }, store: false });
    assert.equal(it2.status, 'completed');
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
    assert.equal(it1.status, 'completed');
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
});
