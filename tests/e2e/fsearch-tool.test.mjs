// The file_search tool (issue 12) in the run loop, through SDK 1.52.0
// (outputs) and 3.3.0 (steps): file_search_call → file_search_result with
// the chunks found ({title, text, file_search_store, document, score,
// custom_metadata}) → the model's text, file_citation annotations where any
// came; top_k respected; metadata_filter selects the documents searched; a
// filter that does not parse, an unknown store and another key's store are
// refused naming the field. The demo model's words are noise, so its call
// is forced (tool_choice any) and the corpus holds every one- and
// two-letter word, so the noise it searches for finds chunks; greedy
// decoding makes the run repeatable. Ranking itself is measured in the unit
// tests (test_fsearch.c: a distinctive phrase finds its document first,
// recall@5 over a known corpus).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAll, collect, T } from './lib/server.mjs';
import { client3 } from './lib/steps.mjs';

const KEY_A = 'fst-key-alpha';
const KEY_B = 'fst-key-bravo';
const CFG = { tool_choice: 'any', temperature: 0, max_output_tokens: 400 };
const ENDED = ['completed', 'incomplete'];
let srv;
let A;
let B;
let store;
let otherStore;

const letters = 'abcdefghijklmnopqrstuvwxyz';
const WORDS = [...letters, ...[...letters].flatMap((a) => [...letters].map((b) => a + b))].join(' ');

before(async () => {
  srv = await startServer({ apiKeys: [KEY_A, KEY_B], args: ['--max-tool-steps', '2'] });
  A = srv.client(KEY_A);
  B = srv.client(KEY_B);
  store = (await A.fileSearchStores.create({ config: { displayName: 'corpus' } })).name;
  for (let i = 0; i < 6; i++) {
    const genre = i % 2 ? 'fiction' : 'history';
    await A.fileSearchStores.uploadToFileSearchStore({ fileSearchStoreName: store,
      file: new Blob([`Document ${i} about ${genre}. ${WORDS}`], { type: 'text/plain' }),
      config: { displayName: `doc${i}`, customMetadata: [{ key: 'genre', stringValue: genre }, { key: 'year', numericValue: 1900 + i }] } });
  }
  otherStore = (await B.fileSearchStores.create({ config: {} })).name;
}, { timeout: 120_000 });
after(stopAll);

const tool = (extra = {}) => [{ type: 'file_search', file_search_store_names: [store], ...extra }];

/** The call and its result among items; returns the result's entries. */
function checkLoop(items) {
  const call = items.find((o) => o.type === 'file_search_call');
  const result = items.find((o) => o.type === 'file_search_result');
  assert.ok(call && result, JSON.stringify(items).slice(0, 500));
  assert.match(call.id, /^call_/);
  assert.equal(result.call_id, call.id);
  assert.ok(Array.isArray(result.result));
  for (const r of result.result) {
    assert.equal(r.file_search_store, store);
    assert.match(r.document, new RegExp(`^${store}/documents/[a-z0-9]+$`));
    assert.match(r.title, /^doc\d$/);
    assert.equal(typeof r.text, 'string');
    assert.equal(typeof r.score, 'number');
  }
  return result.result;
}

function checkCitations(items, found) {
  for (const t of items.filter((o) => o.type === 'text')) {
    for (const a of t.annotations || []) {
      assert.equal(a.type, 'file_citation');
      assert.ok(found.some((r) => r.document === a.document_uri), a.document_uri);
      assert.ok(a.start_index >= 0 && a.end_index > a.start_index && a.end_index <= Buffer.byteLength(t.text));
    }
  }
}

describe('file_search tool', () => {
  it('SDK 1.52.0: call, result with chunks (top_k of them), text, citations where any', T, async () => {
    const it_ = await A.interactions.create({ model: 'demo', input: 'What do my documents say?', tools: tool({ top_k: 3 }),
      generation_config: CFG });
    assert.ok(ENDED.includes(it_.status), it_.status);
    const found = checkLoop(it_.outputs);
    assert.equal(found.length, 3, 'top_k chunks of a corpus that holds every short word');
    checkCitations(it_.outputs, found);
    // greedy decoding: the same run finds the same chunks
    const again = await A.interactions.create({ model: 'demo', input: 'What do my documents say?', tools: tool({ top_k: 3 }),
      generation_config: CFG });
    assert.deepEqual(checkLoop(again.outputs), found);
  });

  it('top_k: the default is 5, and 1 gives one', T, async () => {
    const d = await A.interactions.create({ model: 'demo', input: 'What do my documents say?', tools: tool(), generation_config: CFG });
    assert.equal(checkLoop(d.outputs).length, 5);
    const one = await A.interactions.create({ model: 'demo', input: 'What do my documents say?', tools: tool({ top_k: 1 }), generation_config: CFG });
    assert.equal(checkLoop(one.outputs).length, 1);
  });

  it('metadata_filter selects the documents searched', T, async () => {
    const it_ = await A.interactions.create({ model: 'demo', input: 'What do my documents say?',
      tools: tool({ top_k: 10, metadata_filter: 'genre = "fiction" AND year > 1902' }), generation_config: CFG });
    const found = checkLoop(it_.outputs);
    assert.ok(found.length > 0);
    assert.deepEqual([...new Set(found.map((r) => r.title))].sort(), ['doc3', 'doc5']);
    for (const r of found) assert.equal(r.custom_metadata.genre, 'fiction');
    const none = await A.interactions.create({ model: 'demo', input: 'What do my documents say?',
      tools: tool({ metadata_filter: 'genre = "poetry"' }), generation_config: CFG });
    assert.deepEqual(checkLoop(none.outputs), []);
  });

  it('chunkingConfig: the chunks found are the document cut at maxTokensPerChunk words', T, async () => {
    const small = (await A.fileSearchStores.create({ config: { displayName: 'small chunks' } })).name;
    await A.fileSearchStores.uploadToFileSearchStore({ fileSearchStoreName: small, file: new Blob([WORDS], { type: 'text/plain' }),
      config: { displayName: 'doc9', chunkingConfig: { whiteSpaceConfig: { maxTokensPerChunk: 10, maxOverlapTokens: 2 } } } });
    const it_ = await A.interactions.create({ model: 'demo', input: 'What do my documents say?',
      tools: [{ type: 'file_search', file_search_store_names: [small], top_k: 8 }], generation_config: CFG });
    const result = it_.outputs.find((o) => o.type === 'file_search_result').result;
    assert.ok(result.length >= 1 && result.length <= 8, String(result.length));
    for (const r of result) {
      const n = r.text.split(/\s+/).length;
      assert.ok(n >= 2 && n <= 10, r.text);
      assert.ok(WORDS.includes(r.text), 'a chunk is a slice of the document');
    }
  });

  it('bad input: a filter that does not parse, an unknown store, another key\'s store', T, async () => {
    await assert.rejects(A.interactions.create({ model: 'demo', input: 'x', tools: tool({ metadata_filter: 'genre = ' }) }),
      (e) => e.status === 400 && /tools\[0\]\.metadata_filter: does not parse/.test(e.message));
    await assert.rejects(A.interactions.create({ model: 'demo', input: 'x',
      tools: [{ type: 'file_search', file_search_store_names: ['fileSearchStores/nosuch'] }] }),
      (e) => e.status === 404 && /tools\[0\]\.file_search_store_names\[0\]: fileSearchStores\/nosuch not found/.test(e.message));
    await assert.rejects(A.interactions.create({ model: 'demo', input: 'x',
      tools: [{ type: 'file_search', file_search_store_names: [store, otherStore] }] }),
      (e) => e.status === 404 && /file_search_store_names\[1\]/.test(e.message));
    await assert.rejects(A.interactions.create({ model: 'demo', input: 'x', tools: [{ type: 'file_search' }] }),
      (e) => e.status === 400 && /file_search_store_names: required/.test(e.message));
    await assert.rejects(A.interactions.create({ model: 'demo', input: 'x', tools: tool({ top_k: 0 }) }),
      (e) => e.status === 400 && /top_k/.test(e.message));
  });

  it('SDK 3.3.0 (steps): the call and its result as steps, streamed in order', T, async () => {
    const ai3 = client3(srv, KEY_A);
    const it_ = await ai3.interactions.create({ model: 'demo', input: 'What do my documents say?', tools: tool({ top_k: 2 }),
      generation_config: CFG });
    assert.ok(ENDED.includes(it_.status), it_.status);
    const steps = it_.steps.filter((s) => s.type !== 'user_input');
    assert.equal(checkLoop(steps).length, 2);
    const events = await collect(await ai3.interactions.create({ model: 'demo', input: 'What do my documents say?',
      tools: tool({ top_k: 2 }), generation_config: CFG, stream: true }));
    const starts = events.filter((e) => e.event_type === 'step.start');
    assert.equal(starts[0].step.type, 'file_search_call');
    assert.equal(starts[1].step.type, 'file_search_result');
    assert.equal(starts[1].step.call_id, starts[0].step.id);
  });
});
