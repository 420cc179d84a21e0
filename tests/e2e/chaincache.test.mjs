// A conversation continues from its own tokens. Each turn's prompt carries
// the earlier answers as the tokens the model sampled (kept beside the
// interaction, found again by their text), not a new tokenization of their
// text, so the KV cache of the whole previous turn — its prompt and its
// answer — is reused: from turn 2 on, usage.total_cached_tokens is at least
// 98% of the previous turn's input plus output tokens. On the demo model
// under its ChatML template and under the bundle's Llama 3.1, Gemma (2, the
// same turn format as Gemma 3) and Qwen3 templates, and on a real model
// with no template (stories260K, the plain fallback); chained with
// previous_interaction_id, resent statelessly, and after a restart (from
// disk). The reuse changes nothing but speed: the greedy answers equal
// those of a server with the prefix cache off.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, stopAll, DEMO_MODEL, REPO_ROOT, STORIES_MODEL, HAVE_STORIES } from './lib/server.mjs';

after(stopAll);

const TPL = (f) => path.join(REPO_ROOT, 'build/llama.cpp/models/templates', f);
const MODELS = {
  demo: DEMO_MODEL,
  llama3: DEMO_MODEL,
  gemma: DEMO_MODEL,
  qwen3: DEMO_MODEL,
  ...(HAVE_STORIES ? { stories: STORIES_MODEL } : {}),
};
const ARGS = [
  '--chat-template', `llama3=${TPL('meta-llama-Llama-3.1-8B-Instruct.jinja')}`,
  '--chat-template', `gemma=${TPL('google-gemma-2-2b-it.jinja')}`,
  '--chat-template', `qwen3=${TPL('Qwen-Qwen3-0.6B.jinja')}`,
];
const TURNS = 10;
const cfg = (i) => ({ temperature: 0, max_output_tokens: 100 + 10 * (i % 3) });
const say = (i) => `Turn ${i}: tell me more about topic number ${i * 7}.`;

async function post(srv, body) {
  const r = await srv.raw('POST', '/v1beta/interactions', { body: JSON.stringify(body) });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/** A TURNS-turn chain; returns its interactions. */
async function chain(srv, model, turns = TURNS, prev = null) {
  const out = [];
  for (let i = 0; i < turns; i++) {
    const body = { model, input: say(i), generation_config: cfg(i) };
    if (prev) body.previous_interaction_id = prev;
    const it = await post(srv, body);
    out.push(it);
    prev = it.id;
  }
  return out;
}

const prevTotal = (u) => u.total_input_tokens + u.total_output_tokens + u.total_thought_tokens;

function checkReuse(model, its, from = 1) {
  for (let i = from; i < its.length; i++) {
    const want = prevTotal(its[i - 1].usage);
    const got = its[i].usage.total_cached_tokens;
    assert.ok(got >= 0.98 * want, `${model} turn ${i + 1}: ${got} cached of the previous turn's ${want} tokens`);
    assert.ok(its[i].outputs.at(-1).text.length > 0);
  }
}

describe('a conversation continues from its own tokens', () => {
  const chains = {};
  let srv;

  for (const model of Object.keys(MODELS)) {
    it(`${model}: from turn 2 on, the previous turn is reused whole (>= 98%)`, { timeout: 240_000 }, async () => {
      srv ??= await startServer({ models: MODELS, args: ARGS });
      chains[model] = await chain(srv, model);
      checkReuse(model, chains[model]);
    });
  }

  it('a stateless resend of the same history reuses the same tokens', { timeout: 120_000 }, async () => {
    const its = chains.demo;
    const input = [];
    for (let i = 0; i < 4; i++) {
      input.push({ role: 'user', content: say(i) });
      input.push({ role: 'model', content: its[i].outputs.at(-1).text });
    }
    input.push({ role: 'user', content: 'And now?' });
    const it = await post(srv, { model: 'demo', input, generation_config: { temperature: 0, max_output_tokens: 8 } });
    // the 4-turn history, answers included, is what turn 4 held
    const want = prevTotal(its[3].usage);
    assert.ok(it.usage.total_cached_tokens >= 0.98 * want, `${it.usage.total_cached_tokens} of ${want}`);
  });

  it('after a restart the chain goes on from the kept tokens and KV on disk', { timeout: 120_000 }, async () => {
    const srv2 = await srv.restart();
    srv = srv2;
    for (const model of ['demo', 'llama3']) {
      const last = chains[model].at(-1);
      const [next] = await chain(srv2, model, 1, last.id);
      const want = prevTotal(last.usage);
      assert.ok(next.usage.total_cached_tokens >= 0.98 * want, `${model}: ${next.usage.total_cached_tokens} of ${want}`);
    }
  });

  it('greedy answers equal those of a server with the prefix cache off', { timeout: 240_000 }, async () => {
    const cold = await startServer({ models: { demo: DEMO_MODEL, ...(HAVE_STORIES ? { stories: STORIES_MODEL } : {}) }, args: ['--prefix-cache', 'off'] });
    for (const model of ['demo', ...(HAVE_STORIES ? ['stories'] : [])]) {
      const its = await chain(cold, model, 5);
      for (let i = 0; i < its.length; i++) {
        assert.equal(its[i].usage.total_cached_tokens, 0);
        assert.equal(its[i].outputs.at(-1).text, chains[model][i].outputs.at(-1).text, `${model} turn ${i + 1}`);
        assert.equal(its[i].usage.total_input_tokens, chains[model][i].usage.total_input_tokens);
      }
    }
    await cold.stop();
  });
});
