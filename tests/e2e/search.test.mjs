// google_search (issue 11), as the guide's "Embasamento com a Pesquisa
// Google" sends it, against the two backends a self-hosting user runs:
// - SearxNG: a loopback HTTP server that speaks its JSON API (GET
//   /search?q=...&format=json; {query, number_of_results, results: [{url,
//   title, content, engine, ...}], answers, ...}), interactd started with
//   --search-url naming it (its own address is allowed, nothing else);
// - the local index: SQLite FTS5 over a folder of documents the test
//   writes, rescanned every second (--search-rescan 1).
// The demo model's text is noise: its call is forced with tool_choice, and
// the tests assert the loop's structure (google_search_call {id,
// arguments.queries} → google_search_result {call_id, result} → a model
// step), what the backend received, the result's sources, usage's
// grounding_tool_count, url_citation annotations where any came (byte
// offsets within the text, urls among the results), both dialects and the
// streams' order. Its queries are the same for the same prompt (greedy), so
// a document written with a first run's query words is what a second run
// finds once the rescan has read it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopAll, T, collect, sleep } from './lib/server.mjs';
import { client3 } from './lib/steps.mjs';

const CFG = { tool_choice: 'any', temperature: 0, max_output_tokens: 300 };
const TOOLS = [{ type: 'google_search' }];
const ENDED = ['completed', 'incomplete'];
const SOURCES = [
  { url: 'https://garden.example/azalea', title: 'Azalea care', content: 'Azaleas bloom in spring and like acidic soil.' },
  { url: 'https://garden.example/rose', title: 'Roses', content: 'Roses need full sun.' },
];
let searx, searxUrl, mode = 'ok', received = [], srv, ai;

/** SearxNG's JSON answer for q, as its /search?format=json writes it. */
function searxAnswer(q) {
  return {
    query: q, number_of_results: SOURCES.length,
    results: SOURCES.map((s, i) => ({ ...s, engine: 'duckduckgo', engines: ['duckduckgo'], positions: [i + 1],
      score: 1 / (i + 1), category: 'general', template: 'default.html', parsed_url: ['https', 'garden.example', '/', '', '', ''] })),
    answers: [], corrections: [], infoboxes: [], suggestions: [], unresponsive_engines: [],
  };
}

before(async () => {
  searx = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    received.push({ path: u.pathname, q: u.searchParams.get('q'), format: u.searchParams.get('format'),
      categories: u.searchParams.get('categories'), ua: req.headers['user-agent'] });
    if (mode === 'down') { res.writeHead(500); res.end('engine error'); return; }
    if (mode === 'redirect') { res.writeHead(302, { location: 'http://127.0.0.1:9/search' }); res.end(); return; }
    if (u.pathname !== '/search' || u.searchParams.get('format') !== 'json') { res.writeHead(403); res.end(); return; }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(searxAnswer(u.searchParams.get('q'))));
  });
  await new Promise((r) => searx.listen(0, '127.0.0.1', r));
  searxUrl = `http://127.0.0.1:${searx.address().port}`;
  srv = await startServer({ args: ['--search-url', searxUrl, '--max-tool-steps', '2'] });
  ai = srv.client();
}, { timeout: 60_000 });
after(async () => {
  await stopAll();
  searx?.closeAllConnections?.();
  searx?.close();
});

/** The call, its result and what follows, checked; returns them. */
function checkSearch(outputs, urls) {
  const [call, result, ...rest] = outputs;
  assert.equal(call.type, 'google_search_call', JSON.stringify(outputs));
  assert.match(call.id, /^call_[0-9a-f]{24}$/);
  assert.ok(Array.isArray(call.arguments.queries) && call.arguments.queries.length >= 1 && call.arguments.queries.length <= 5);
  for (const q of call.arguments.queries) assert.equal(typeof q, 'string');
  assert.equal(result.type, 'google_search_result');
  assert.equal(result.call_id, call.id);
  assert.ok(Array.isArray(result.result));
  // the typings' search_suggestions first (the guide's rendered_content is the same HTML), then a source each
  assert.match(result.result[0].search_suggestions, /^<div class="search-suggestions">/);
  assert.equal(result.rendered_content, result.result[0].search_suggestions);
  for (const s of result.result.slice(1)) assert.ok(urls.some((u) => s.url.startsWith(u)), s.url);
  assert.ok(rest.length >= 1, 'a model step after the result');
  return { call, result, rest };
}

/** Annotations, where any came: url_citation, byte offsets within the text, urls among the results. */
function checkAnnotations(outputs) {
  const urls = outputs.filter((o) => o.type === 'google_search_result').flatMap((o) => o.result.slice(1).map((s) => s.url));
  for (const o of outputs.filter((x) => x.type === 'text' && x.annotations)) {
    const bytes = Buffer.byteLength(o.text, 'utf8');
    for (const a of o.annotations) {
      assert.equal(a.type, 'url_citation');
      assert.ok(a.start_index >= 0 && a.start_index < a.end_index && a.end_index <= bytes, JSON.stringify(a));
      assert.ok(urls.includes(a.url), a.url);
    }
  }
}

function groundingCount(it_) {
  return it_.outputs.filter((o) => o.type === 'google_search_call').length;
}

describe('google_search: SearxNG', () => {
  it('the guide\'s request: call, result from SearxNG\'s JSON, the model again; grounding counted; kept by GET', T, async () => {
    received = [];
    const it_ = await ai.interactions.create({ model: 'demo', input: 'Who won the last Super Bowl?', tools: TOOLS,
      generation_config: CFG });
    assert.ok(ENDED.includes(it_.status), it_.status);
    const { call, result } = checkSearch(it_.outputs, SOURCES.map((s) => s.url));
    assert.equal(call.search_type, 'web_search');
    assert.deepEqual(result.result.slice(1), SOURCES.map((s) => ({ url: s.url, title: s.title })));
    assert.ok(!result.is_error);
    // SearxNG got each query: GET /search, format=json, our User-Agent
    assert.deepEqual(received.slice(0, call.arguments.queries.length).map((r) => r.q), call.arguments.queries);
    for (const r of received) {
      assert.equal(r.path, '/search');
      assert.equal(r.format, 'json');
      assert.match(r.ua, /interactd/);
    }
    assert.deepEqual(it_.usage.grounding_tool_count, [{ type: 'google_search', count: groundingCount(it_) }]);
    assert.ok(it_.usage.total_tool_use_tokens > 0, JSON.stringify(it_.usage));
    checkAnnotations(it_.outputs);
    const got = await ai.interactions.get(it_.id);
    assert.deepEqual(got.outputs, it_.outputs);
    assert.deepEqual(got.usage.grounding_tool_count, it_.usage.grounding_tool_count);
  });

  it('search_types: image_search names the call and asks SearxNG for images', T, async () => {
    received = [];
    const it_ = await ai.interactions.create({ model: 'demo', input: 'A vintage gold coin.', tools: [{ type: 'google_search',
      search_types: ['image_search'] }], generation_config: CFG });
    assert.equal(it_.outputs[0].search_type, 'image_search');
    assert.equal(received[0].categories, 'images');
  });

  it('SearxNG failing or redirecting elsewhere: an error result, the run goes on', T, async () => {
    for (const m of ['down', 'redirect']) {
      mode = m;
      const it_ = await ai.interactions.create({ model: 'demo', input: 'Who won?', tools: TOOLS, generation_config: CFG,
        store: false });
      mode = 'ok';
      const [, result] = it_.outputs;
      assert.equal(result.type, 'google_search_result');
      assert.equal(result.is_error, true, m);
      assert.equal(result.result.length, 1, 'the suggestions only');
      assert.ok(ENDED.includes(it_.status), it_.status);
    }
  });

  it('streams the call, then its result, then the answer, in order (legacy)', T, async () => {
    const events = await collect(await ai.interactions.create({ model: 'demo', input: 'Weather in New York today?',
      tools: TOOLS, generation_config: CFG, stream: true }));
    const starts = events.filter((e) => e.event_type === 'content.start');
    starts.forEach((e, i) => assert.equal(e.index, i));
    assert.equal(starts[0].content.type, 'google_search_call');
    assert.equal(starts[1].content.type, 'google_search_result');
    assert.equal(starts[1].content.call_id, starts[0].content.id);
    const done = events.find((e) => e.event_type === 'interaction.complete');
    const got = await ai.interactions.get(done.interaction.id);
    assert.deepEqual(starts.map((e) => e.content.type), got.outputs.map((o) => o.type));
    assert.equal(done.interaction.usage.grounding_tool_count[0].count, groundingCount(got));
    // a text block's annotations come as its last delta, before its stop
    for (const a of events.filter((e) => e.event_type === 'content.delta' && e.delta.type === 'text_annotation')) {
      const stop = events.findIndex((e) => e.event_type === 'content.stop' && e.index === a.index);
      assert.ok(events.indexOf(a) < stop);
      assert.deepEqual(a.delta.annotations, got.outputs[a.index].annotations);
    }
  });

  it('SDK 3.x (steps): the call and its result as steps, streamed in order', T, async () => {
    const ai3 = client3(srv);
    const it_ = await ai3.interactions.create({ model: 'demo', input: 'Who won the last Super Bowl?', tools: TOOLS,
      generation_config: CFG });
    assert.ok(ENDED.includes(it_.status), it_.status);
    const steps = it_.steps.filter((s) => s.type !== 'user_input');
    checkSearch(steps, SOURCES.map((s) => s.url));
    assert.equal(it_.usage.grounding_tool_count[0].type, 'google_search');
    const events = await collect(await ai3.interactions.create({ model: 'demo', input: 'Who won?', tools: TOOLS,
      generation_config: CFG, stream: true }));
    const starts = events.filter((e) => e.event_type === 'step.start');
    assert.equal(starts[0].step.type, 'google_search_call');
    assert.equal(starts[1].step.type, 'google_search_result');
    assert.equal(starts[1].step.call_id, starts[0].step.id);
  });

  it('bad input: search_types that are not one, the tool twice', T, async () => {
    const bad = async (body, re) => {
      const r = await srv.raw('POST', '/v1beta/interactions', { body: { model: 'demo', input: 'x', ...body } });
      assert.equal(r.status, 400, JSON.stringify(r.json));
      assert.match(r.json.error.message, re);
    };
    await bad({ tools: [{ type: 'google_search', search_types: ['news'] }] }, /tools\[0\]\.search_types\[0\]/);
    await bad({ tools: [{ type: 'google_search', depth: 2 }] }, /tools\[0\]\.depth/);
    await bad({ tools: [{ type: 'google_search' }, { type: 'google_search' }] }, /given twice/);
  });
});

describe('google_search: no backend', () => {
  it('a 400 naming --search-url and --search-index, in both dialects', T, async () => {
    const plain = await startServer({});
    const r = await plain.raw('POST', '/v1beta/interactions', { body: { model: 'demo', input: 'x', tools: TOOLS } });
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.match(r.json.error.message, /--search-url/);
    assert.match(r.json.error.message, /--search-index/);
    await assert.rejects(client3(plain).interactions.create({ model: 'demo', input: 'x', tools: TOOLS }),
      (e) => e.status === 400 && /--search-url/.test(e.message));
    await plain.stop();
  });
});

describe('google_search: the local index (SQLite FTS5)', () => {
  let dir, local;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-docs-'));
    fs.writeFileSync(path.join(dir, 'azalea.md'), '# Azalea care\n\nAzaleas bloom in spring; acidic soil, some shade.\n');
    fs.mkdirSync(path.join(dir, 'web'));
    fs.writeFileSync(path.join(dir, 'web', 'rose.html'), '<html><head><title>Roses</title></head><body><p>Roses need sun.</p></body></html>');
    local = await startServer({ args: ['--search-index', dir, '--search-rescan', '1', '--max-tool-steps', '2'] });
  }, { timeout: 60_000 });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a document added while the server runs is found after the rescan', T, async () => {
    const client = local.client();
    const ask = () => client.interactions.create({ model: 'demo', input: 'What does the report say about spring?',
      tools: TOOLS, generation_config: CFG, store: false });
    const first = await ask();
    const { call } = checkSearch(first.outputs, [`file://${dir}/`]);
    // the same prompt makes the same first step: a document holding its queries' words will match them
    const file = path.join(dir, 'report.txt');
    fs.writeFileSync(file, `Report.\n${call.arguments.queries.join('\n')}\n`);
    await sleep(2500); // > --search-rescan 1
    const second = await ask();
    const { result } = checkSearch(second.outputs, [`file://${dir}/`]);
    assert.deepEqual(second.outputs[0].arguments, call.arguments);
    assert.ok(result.result.some((s) => s.url === `file://${file}` && s.title === 'report.txt'), JSON.stringify(result.result));
    assert.ok(!result.is_error);
    assert.equal(second.usage.grounding_tool_count[0].count, groundingCount(second));
    checkAnnotations(second.outputs);
    assert.ok(fs.existsSync(path.join(local.dataDir, 'search-index.db')), 'its own database file under the data dir');
  });
});
