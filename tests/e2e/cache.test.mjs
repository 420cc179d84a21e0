// Prefix reuse through the API: a turn that continues a chain reports the
// reused prompt tokens in usage.total_cached_tokens and gives the same greedy
// text as a server with the cache off; after a restart the kept state comes
// back from the data folder (DATA/kvcache/<model>).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, stopAll, T, textOf } from './lib/server.mjs';

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
    assert.equal(t2.status, 'completed');
    assert.ok(t2.usage.total_cached_tokens >= t1.usage.total_input_tokens - 1, JSON.stringify(t2.usage));
  });
});
