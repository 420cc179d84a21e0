// Prefix reuse through the API: a turn that continues a chain reports the
// reused prompt tokens in usage.total_cached_tokens and gives the same greedy
// text as a server with the cache off; after a restart the kept state comes
// back from the data folder (DATA/kvcache/<model>). With several contexts
// (--contexts 2) concurrent requests answer as they do one at a time, and
// every chain's next turn still finds its history, whichever context holds it.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, stopAll, T, textOf, assertEnded } from './lib/server.mjs';

after(stopAll);
const CFG = { temperature: 0, max_output_tokens: 12 };
const FIRST = 'Tell me a long story about a cat, a dog and a little red ball in the park.';

describe('prefix reuse', () => {
  it('a continued chain reports cached tokens and answers as a cold server does', T, async () => {
    const hot = await startServer();
    const cold = await startServer({ args: ['--prefix-cache', 'off'] });
    const run = async (srv) => {
      const ai = srv.client();
      const t1 = await ai.interactions.create({ model: 'demo', input: FIRST, generation_config: CFG });
      const t2 = await ai.interactions.create({ model: 'demo', input: 'And then?', previous_interaction_id: t1.id,
        generation_config: CFG });
      return [t1, t2];
    };
    const [h1, h2] = await run(hot);
    const [c1, c2] = await run(cold);
    assert.equal(textOf(h2), textOf(c2));
    assert.equal(h2.usage.total_input_tokens, c2.usage.total_input_tokens);
    assert.equal(c1.usage.total_cached_tokens, 0);
    assert.equal(c2.usage.total_cached_tokens, 0);
    assert.equal(h1.usage.total_cached_tokens, 0);
    // At least all of turn 1's prompt is reused, never the whole of turn 2's.
    assert.ok(h2.usage.total_cached_tokens >= h1.usage.total_input_tokens - 1, JSON.stringify(h2.usage));
    assert.ok(h2.usage.total_cached_tokens < h2.usage.total_input_tokens, JSON.stringify(h2.usage));
    // The stored record carries it too.
    const got = await hot.client().interactions.get(h2.id);
    assert.equal(got.usage.total_cached_tokens, h2.usage.total_cached_tokens);
  });

  it('after a restart the chain continues from the state saved on disk', T, async () => {
    const srv = await startServer();
    const t1 = await srv.client().interactions.create({ model: 'demo', input: FIRST, generation_config: CFG });
    const next = await srv.restart();
    const dir = path.join(next.dataDir, 'kvcache', 'demo');
    assert.ok(fs.readdirSync(dir).some((f) => f.endsWith('.kv')), `a saved sequence in ${dir}`);
    const t2 = await next.client().interactions.create({ model: 'demo', input: 'And then?',
      previous_interaction_id: t1.id, generation_config: CFG });
    assertEnded(assert, t2);
    assert.ok(t2.usage.total_cached_tokens >= t1.usage.total_input_tokens - 1, JSON.stringify(t2.usage));
  });
});

describe('several contexts per model', () => {
  it('--contexts 2: concurrent answers equal sequential ones; chains reuse their history', { timeout: 180_000 }, async () => {
    const srv = await startServer({ args: ['--contexts', '2', '--parallel', '4'] });
    assert.match(srv.stderr(), /model demo: 2 contexts of 1 thread, 4 parallel sequences/);
    const ai = srv.client();
    const prompts = ['The cat', 'A dog ran', 'Once upon a time there was', 'The little red ball', 'Tom and Lily',
      'In the park'];
    const cfg = { temperature: 0, max_output_tokens: 16 };
    const together = await Promise.all(prompts.map((input) =>
      ai.interactions.create({ model: 'demo', input, generation_config: cfg })));
    for (let i = 0; i < prompts.length; i++) {
      const alone = await ai.interactions.create({ model: 'demo', input: prompts[i], generation_config: cfg });
      assert.equal(textOf(together[i]), textOf(alone), `prompt ${i}`);
      assert.equal(together[i].usage.total_output_tokens, alone.usage.total_output_tokens);
    }
    // Four chains side by side, two turns each (as many as the slots, so a
    // turn 2 may be taken by the context that does not hold its history):
    // every turn 2 reuses turn 1's prompt, wherever turn 1 ran. Whole, or
    // all but fewer than IA_MIN_KEEP_TOKENS (64): a turn 1 moved between
    // contexts mid-prefill leaves its first chunk behind, and a job finding
    // that much where it runs stays there rather than hopping to the context
    // holding the rest (route.c: a shorter gap is cheaper to prefill again).
    // The chains differ from their first word, so their histories are worth
    // moving (the engine does not move a job for a few tokens).
    const firsts = await Promise.all(['Chain one', 'Second chain', 'Third', 'Last of four'].map((tag) =>
      ai.interactions.create({ model: 'demo', input: `${tag}: ${FIRST} ${FIRST} ${FIRST}`, generation_config: CFG })));
    const seconds = await Promise.all(firsts.map((t1) => ai.interactions.create({
      model: 'demo', input: 'And then?', previous_interaction_id: t1.id, generation_config: CFG })));
    for (let i = 0; i < 4; i++) {
      assert.ok(seconds[i].usage.total_cached_tokens >= firsts[i].usage.total_input_tokens - 64,
        `chain ${i}: ${JSON.stringify(seconds[i].usage)} after ${JSON.stringify(firsts[i].usage)}`);
    }
  });

  it('the layout follows the load: sequences move between contexts, answers unchanged, /metrics counts it', { timeout: 180_000 }, async () => {
    // Six requests on two contexts: past two per context they run as one
    // batch in one context, so those that started on the other move there
    // with their KV mid-run, and back when the load falls. Each answer is
    // held by its schema to 500+ characters, so all six run at once.
    // (That a moved sequence goes on with exactly its own tokens is the
    // engine's unit test engine_layout_moves_sequences_with_the_load; here
    // answers of 400+ tokens are not compared across servers, since batches
    // of another size may round a near-tie of the random weights the other
    // way.)
    const follow = await startServer({ args: ['--contexts', '2', '--parallel', '6'] });
    const fixed = await startServer({ args: ['--contexts', '2', '--parallel', '6', '--layout', 'fixed'] });
    const cfg = { temperature: 0, max_output_tokens: 4000 };
    const schema = { type: 'string', minLength: 500, maxLength: 600 };
    const prompts = ['The cat', 'A dog ran', 'Once upon a time', 'The little red ball', 'Tom and Lily', 'In the park'];
    const runAll = (srv) => Promise.all(prompts.map((input) => srv.client().interactions.create({
      model: 'demo', input, generation_config: cfg, response_format: schema })));
    const [a, b] = [await runAll(follow), await runAll(fixed)];
    for (const it of [...a, ...b]) {
      assertEnded(assert, it);
      assert.equal(it.status, 'completed');
      const v = JSON.parse(textOf(it));
      assert.ok(typeof v === 'string' && [...v].length > 400, `${[...v].length} characters`);
    }
    const metric = async (srv, name) => {
      const r = await srv.raw('GET', '/metrics');
      const m = new RegExp(`^${name}\\{model="demo"\\} (\\d+)$`, 'm').exec(r.text);
      assert.ok(m, `${name} in /metrics`);
      return Number(m[1]);
    };
    assert.ok(await metric(follow, 'interactd_layout_changes_total') >= 1, 'one batch at 6 running');
    assert.ok(await metric(follow, 'interactd_sequences_moved_total') >= 1, 'a sequence moved');
    assert.equal(await metric(follow, 'interactd_layout_one_batch'), 0, 'split again once idle');
    assert.equal(await metric(fixed, 'interactd_sequences_moved_total'), 0);
    assert.equal(await metric(fixed, 'interactd_layout_changes_total'), 0);
    assert.match(follow.stderr(), /2 contexts of 1 thread, 6 parallel sequences \(one batch in one context past 2/);
  });
});
