// Hybrid file search through SDK 1.52.0: a server with --embedding-model
// (build/embed.gguf, random weights) stores each chunk's vector at
// ingestion and adds the query's nearest chunks to the lexical list, so a
// query that shares no word with the documents still finds chunks; the same
// run on a server without an embedding model finds none (lexical only).
// fileSearchStores.create takes an embeddingModel that is served (Google's
// name resolves to the default) and refuses one that is not, naming it and
// the flag. The demo model's call is forced (tool_choice any) and greedy,
// so both servers search for the same noise; the documents are words no
// query of the demo vocabulary holds. Ranking quality is measured in the
// unit tests (test_fs_hybrid.c: recall@5 lexical vs hybrid).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, stopAll, T, DEMO_MODEL, REPO_ROOT } from './lib/server.mjs';

const EMBED_MODEL = path.join(REPO_ROOT, 'build/embed.gguf');
const CFG = { tool_choice: 'any', temperature: 0, max_output_tokens: 200 };
const DOCS = ['Zqxvbnm wrtplkj', 'Qwzxkjhg vbnmrtyp', 'Pfffzzzt xkcdqqq', 'Mnbvcxzq lkjhgfdq'];
let hybrid;
let lexical;

async function corpus(ai, config = {}) {
  const store = (await ai.fileSearchStores.create({ config: { displayName: 'odd words', ...config } })).name;
  for (let i = 0; i < DOCS.length; i++) {
    await ai.fileSearchStores.uploadToFileSearchStore({ fileSearchStoreName: store,
      file: new Blob([DOCS[i]], { type: 'text/plain' }), config: { displayName: `doc${i}` } });
  }
  return store;
}

async function search(ai, store) {
  const it_ = await ai.interactions.create({ model: 'demo', input: 'What do my documents say?',
    tools: [{ type: 'file_search', file_search_store_names: [store], top_k: 3 }], generation_config: CFG });
  const result = it_.outputs.find((o) => o.type === 'file_search_result');
  assert.ok(result, JSON.stringify(it_.outputs).slice(0, 400));
  return result.result;
}

before(async () => {
  hybrid = await startServer({ models: { demo: DEMO_MODEL }, args: ['--embedding-model', EMBED_MODEL, '--max-tool-steps', '2'] });
  lexical = await startServer({ models: { demo: DEMO_MODEL }, args: ['--max-tool-steps', '2'] });
}, { timeout: 120_000 });
after(stopAll);

describe('hybrid file search', () => {
  it('a query sharing no word with the documents finds chunks by vector, and none lexically', T, async () => {
    const h = await search(hybrid.client(), await corpus(hybrid.client()));
    assert.equal(h.length, 3);
    for (const r of h) {
      assert.ok(DOCS.includes(r.text), r.text);
      assert.match(r.title, /^doc\d$/);
      assert.ok(r.score > 0);
    }
    const again = await search(hybrid.client(), (await hybrid.client().fileSearchStores.list()).page[0].name);
    assert.deepEqual(again.map((r) => r.text), h.map((r) => r.text)); // deterministic
    const l = await search(lexical.client(), await corpus(lexical.client()));
    assert.equal(l.length, 0);
    assert.match(hybrid.stderr(), /file search: hybrid ranking \(lexical \+ embed vectors/);
    assert.match(lexical.stderr(), /file search: lexical ranking only \(no --embedding-model\)/);
  });

  it('embeddingModel: a served one (Google\'s name too) is kept, another is a 400 naming it and the flag', T, async () => {
    const ai = hybrid.client();
    const s = await ai.fileSearchStores.create({ config: { embeddingModel: 'models/gemini-embedding-001' } });
    assert.equal(s.embeddingModel, 'models/gemini-embedding-001');
    const h = await search(ai, await corpus(ai, { embeddingModel: 'models/embed' }));
    assert.equal(h.length, 3);
    await assert.rejects(ai.fileSearchStores.create({ config: { embeddingModel: 'models/text-embedding-999' } }), (e) => {
      assert.equal(e.status, 400);
      assert.match(e.message, /embeddingModel: 'models\/text-embedding-999' is not an embedding model this server serves.*--embedding-model/);
      return true;
    });
    await assert.rejects(lexical.client().fileSearchStores.create({ config: { embeddingModel: 'models/gemini-embedding-001' } }),
      (e) => e.status === 400 && /embedding models: none/.test(e.message));
  });
});
