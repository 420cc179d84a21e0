// Basic interactions against the random-weight demo model, through the
// official SDK: the guide's first example, the three input forms,
// system_instruction, generation_config (max_output_tokens, greedy
// determinism, seed, top_p, stop_sequences) and the shape of the resource
// (id, object, timestamps, usage). The demo model's text is noise, so the
// checks rest on what greedy decoding guarantees: identical prompts give
// identical text and token counts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  startServer, stopAll, T, RFC3339_SECONDS, ID_RE, textOf, checkUsage, sdkErrors, BIN, collect, deltaText, pollUntil, assertEnded } from './lib/server.mjs';

let srv;
let ai;
const MODEL = 'demo';

/** Greedy, short generation on the demo model. */
function create(input, cfg = {}, extra = {}) {
  return ai.interactions.create({
    model: MODEL, input,
    generation_config: { temperature: 0, max_output_tokens: 8, ...cfg },
    ...extra,
  });
}

before(async () => {
  srv = await startServer();
  ai = srv.client();
}, { timeout: 90_000 });
after(stopAll);

describe('basics', () => {
  it('GET /healthz answers 200', T, async () => {
    const r = await srv.raw('GET', '/healthz');
    assert.equal(r.status, 200);
  });

  it('without API keys the server listens on loopback only', T, async () => {
    assert.ok(srv.announcedUrl, 'listening line seen');
    const host = new URL(srv.announcedUrl).hostname;
    assert.ok(['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host),
      `listening on a loopback address, got ${srv.announcedUrl}`);
  });

  it("guide: create with a string input, read outputs[outputs.length - 1].text", T, async () => {
    const interaction = await ai.interactions.create({
      model: MODEL,
      input: 'Tell me a short joke about programming.',
      generation_config: { max_output_tokens: 8 },
    });
    assertEnded(assert, interaction);
    assert.ok(Array.isArray(interaction.outputs) && interaction.outputs.length >= 1, 'outputs is a non-empty list');
    const last = interaction.outputs[interaction.outputs.length - 1];
    assert.equal(last.type, 'text');
    assert.equal(typeof last.text, 'string');
    assert.ok(last.text.length > 0, 'the demo model produced some text');
    assert.equal(interaction.model, MODEL);
    assert.equal(interaction.role, 'model');
    assert.match(interaction.id, ID_RE);
    checkUsage(assert, interaction.usage, { maxOutput: 8 });
    assert.ok(interaction.usage.total_output_tokens >= 1, 'at least one output token');
  });

  it('the raw resource: object "interaction", RFC 3339 second timestamps, id "v1_", usage keys with zeros', T, async () => {
    const r = await srv.raw('POST', '/v1beta/interactions', {
      key: 'k', body: { model: MODEL, input: 'Hello', generation_config: { temperature: 0, max_output_tokens: 6 } },
    });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') || '', /application\/json/);
    const it_ = r.json;
    assert.equal(it_.object, 'interaction');
    assert.match(it_.id, ID_RE);
    assert.ok(it_.id.length > 10, 'id is not trivially short');
    assertEnded(assert, it_);
    assert.match(it_.created, RFC3339_SECONDS);
    assert.match(it_.updated, RFC3339_SECONDS);
    assert.ok(Date.parse(it_.updated) >= Date.parse(it_.created), 'updated >= created');
    assert.ok(Math.abs(Date.parse(it_.created) - Date.now()) < 5 * 60_000, 'created is now-ish');
    const u = checkUsage(assert, it_.usage, { maxOutput: 6 });
    assert.equal(u.total_thought_tokens, 0);
    assert.equal(u.total_tool_use_tokens, 0);
    assert.ok(Array.isArray(u.input_tokens_by_modality), 'input_tokens_by_modality is a list');
    const text = u.input_tokens_by_modality.find((m) => m.modality === 'text');
    assert.ok(text, 'a text modality entry');
    assert.equal(text.tokens, u.total_input_tokens);
    assert.ok(!('previous_interaction_id' in it_) || it_.previous_interaction_id == null,
      'no previous_interaction_id on a first turn');
  });

  it('two creates get distinct ids', T, async () => {
    const a = await create('same prompt');
    const b = await create('same prompt');
    assert.notEqual(a.id, b.id);
  });

  it('input as a list of content objects equals the same text as a string', T, async () => {
    const s = await create('The cat sat on the mat.', { max_output_tokens: 10 });
    const c = await create([{ type: 'text', text: 'The cat sat on the mat.' }], { max_output_tokens: 10 });
    assertEnded(assert, c);
    assert.equal(c.usage.total_input_tokens, s.usage.total_input_tokens, 'same prompt, same input tokens');
    assert.equal(textOf(c), textOf(s), 'greedy: same prompt, same text');
  });

  it('input with two content objects counts both texts', T, async () => {
    const one = await create([{ type: 'text', text: 'First part.' }]);
    const two = await create([{ type: 'text', text: 'First part.' }, { type: 'text', text: 'Second part, a bit longer.' }]);
    assert.ok(two.usage.total_input_tokens > one.usage.total_input_tokens,
      `${two.usage.total_input_tokens} > ${one.usage.total_input_tokens}`);
  });

  it('input as turns (content string and content list) equals the string form', T, async () => {
    const s = await create('Where is the library?', { max_output_tokens: 10 });
    const t1 = await create([{ role: 'user', content: 'Where is the library?' }], { max_output_tokens: 10 });
    const t2 = await create([{ role: 'user', content: [{ type: 'text', text: 'Where is the library?' }] }],
      { max_output_tokens: 10 });
    for (const t of [t1, t2]) {
      assertEnded(assert, t);
      assert.equal(t.usage.total_input_tokens, s.usage.total_input_tokens);
      assert.equal(textOf(t), textOf(s));
    }
  });

  it('multi-turn input is longer than its last turn alone', T, async () => {
    const last = await create([{ role: 'user', content: 'And the second one?' }]);
    const multi = await create([
      { role: 'user', content: 'What are the three largest cities in Spain?' },
      { role: 'model', content: 'Madrid, Barcelona, and Valencia.' },
      { role: 'user', content: 'And the second one?' },
    ]);
    assertEnded(assert, multi);
    assert.ok(multi.usage.total_input_tokens > last.usage.total_input_tokens + 10,
      `${multi.usage.total_input_tokens} vs ${last.usage.total_input_tokens}`);
  });

  it('system_instruction is echoed and reaches the prompt', T, async () => {
    const plain = await create('Hello there.');
    const sys = await create('Hello there.', {}, { system_instruction: 'You are a helpful pirate who speaks in rhymes.' });
    assert.equal(sys.system_instruction, 'You are a helpful pirate who speaks in rhymes.');
    assert.ok(sys.usage.total_input_tokens > plain.usage.total_input_tokens,
      `system instruction adds input tokens (${sys.usage.total_input_tokens} > ${plain.usage.total_input_tokens})`);
    assert.equal(plain.system_instruction, undefined, 'no echo when none was sent');
  });

  it('generation_config.max_output_tokens caps usage.total_output_tokens', T, async () => {
    for (const n of [1, 3, 12]) {
      const r = await create('Count to one hundred.', { max_output_tokens: n });
      assertEnded(assert, r);
      assert.ok(r.usage.total_output_tokens >= 1 && r.usage.total_output_tokens <= n,
        `max_output_tokens ${n}: got ${r.usage.total_output_tokens}`);
    }
    const short = await create('Count to one hundred.', { max_output_tokens: 3 });
    const long = await create('Count to one hundred.', { max_output_tokens: 12 });
    assert.ok(textOf(long).startsWith(textOf(short)), 'greedy: the shorter output is a prefix of the longer one');
  });

  it('greedy decoding (temperature 0) is deterministic', T, async () => {
    const a = await create('Describe the sea.', { max_output_tokens: 16 });
    const b = await create('Describe the sea.', { max_output_tokens: 16 });
    assert.ok(textOf(a).length > 0);
    assert.equal(textOf(b), textOf(a));
    assert.equal(b.usage.total_output_tokens, a.usage.total_output_tokens);
    const other = await create('Something completely different: a recipe for bread.', { max_output_tokens: 16 });
    assert.notEqual(textOf(other), textOf(a), 'a different prompt gives a different continuation');
  });

  it('same seed and input at temperature 1 give the same text; other seeds differ', T, async () => {
    const cfg = { temperature: 1, top_p: 1, max_output_tokens: 16 };
    const a = await create('Tell me a story.', { ...cfg, seed: 1234 });
    const b = await create('Tell me a story.', { ...cfg, seed: 1234 });
    assert.equal(textOf(b), textOf(a), 'same seed, same sample');
    const others = [];
    for (const seed of [1, 2, 3]) others.push(textOf(await create('Tell me a story.', { ...cfg, seed })));
    assert.ok(others.some((t) => t !== textOf(a)), 'some other seed samples a different text');
  });

  it('top_p close to 0 keeps only the most likely token (equals greedy)', T, async () => {
    const greedy = await create('Write a poem about rain.', { max_output_tokens: 12 });
    const nucleus = await create('Write a poem about rain.', { temperature: 1, top_p: 1e-6, seed: 99, max_output_tokens: 12 });
    assert.equal(textOf(nucleus), textOf(greedy));
  });

  it('stop_sequences end the output before the stop sequence', T, async () => {
    const full = await create('List some colours.', { max_output_tokens: 24 });
    const g = textOf(full);
    assert.ok(g.length >= 8, `need some text to cut (${JSON.stringify(g)})`);
    // A stop sequence from the middle of the greedy text, at its first occurrence.
    let stop = null;
    for (let i = Math.floor(g.length / 3); i < Math.floor((2 * g.length) / 3) && !stop; i++) {
      const s = g.slice(i, i + 3);
      if (s.trim().length === 3 && g.indexOf(s) === i && !/[\uFFFD\uD800-\uDFFF]/.test(s)) stop = s;
    }
    for (let i = 1; i < g.length - 2 && !stop; i++) {
      const s = g.slice(i, i + 2);
      if (s.trim().length === 2 && g.indexOf(s) === i && !/[\uFFFD\uD800-\uDFFF]/.test(s)) stop = s;
    }
    assert.ok(stop, `found a stop sequence in ${JSON.stringify(g)}`);
    const cut = await create('List some colours.', { max_output_tokens: 24, stop_sequences: [stop] });
    assertEnded(assert, cut);
    assert.equal(textOf(cut), g.slice(0, g.indexOf(stop)),
      `stop ${JSON.stringify(stop)} in ${JSON.stringify(g)}`);
    assert.ok(cut.usage.total_output_tokens < full.usage.total_output_tokens, 'fewer tokens generated');
  });

  it("guide: generation_config example (temperature 0.7, thinking_level 'low')", T, async () => {
    // thinking is a later issue: either it is accepted (a model without
    // thinking just answers) or refused with a 400 that names it.
    const { BadRequestError } = sdkErrors(ai);
    try {
      const interaction = await ai.interactions.create({
        model: MODEL,
        input: 'Tell me a story about a brave knight.',
        generation_config: { temperature: 0.7, max_output_tokens: 16, thinking_level: 'low' },
      });
      assertEnded(assert, interaction);
      assert.ok(interaction.outputs[interaction.outputs.length - 1].text.length > 0);
    } catch (e) {
      assert.ok(e instanceof BadRequestError, `a 400, not ${e.status}: ${e.message}`);
      assert.match(e.message, /thinking/);
    }
    const plain = await ai.interactions.create({
      model: MODEL,
      input: 'Tell me a story about a brave knight.',
      generation_config: { temperature: 0.7, max_output_tokens: 16 },
    });
    assertEnded(assert, plain);
    checkUsage(assert, plain.usage, { maxOutput: 16 });
  });

  it('GET returns what create returned', T, async () => {
    const c = await create('Remember this.', { max_output_tokens: 10 });
    const g = await ai.interactions.get(c.id);
    assert.equal(g.id, c.id);
    assertEnded(assert, g);
    assert.equal(g.model, MODEL);
    assert.deepEqual(g.outputs, c.outputs);
    assert.deepEqual(g.usage, c.usage);
    assert.equal(g.created, c.created);
    assert.equal(g.input, undefined, 'no input without include_input');
  });

  // The connection's memory pool (src/http/server.c, CONN_POOL) holds the
  // headers and the blocks a stream is written through: big headers must
  // leave room for both.
  it('large request headers are served (one of 16 KiB; 64 of 200 bytes), also on a stream', T, async () => {
    const one = { 'x-pad': 'a'.repeat(16 << 10) };
    const many = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`x-pad-${i}`, 'b'.repeat(200)]));
    const c = await create('Headers can be large.', { max_output_tokens: 40 });
    for (const headers of [one, many]) {
      const big = srv.client('e2e-key', { headers });
      const g = await big.interactions.get(c.id);
      assert.deepEqual(g.outputs, c.outputs);
      const evs = await collect(await big.interactions.create({
        model: MODEL, input: 'Headers can be large.', stream: true,
        generation_config: { temperature: 0, max_output_tokens: 40 },
      }));
      assert.equal(evs.at(-1).event_type, 'interaction.complete');
      assert.equal(deltaText(evs), textOf(c), 'the stream carries the same greedy text');
    }
    // Far past the pool: libmicrohttpd refuses it (431), and serving goes on.
    const huge = await fetch(`${srv.url}/v1beta/interactions/${c.id}`, { headers: { 'x-pad': 'c'.repeat(64 << 10) } });
    assert.equal(huge.status, 431);
    await huge.text();
    const after = await ai.interactions.get(c.id);
    assert.equal(after.id, c.id);
  });
});

describe('concurrency', () => {
  it('concurrent requests do not corrupt each other (equal to the sequential results)', { timeout: 120_000 }, async () => {
    const prompts = Array.from({ length: 6 }, (_, i) => `Concurrent prompt number ${i}: ${'abc '.repeat(i)}`);
    const cfg = { max_output_tokens: 24 };
    const sequential = [];
    for (const p of prompts) sequential.push(textOf(await create(p, cfg)));
    const parallel = await Promise.all(prompts.map((p) => create(p, cfg)));
    assert.deepEqual(parallel.map(textOf), sequential);
    const streams = await Promise.all(prompts.map(async (p) => deltaText(await collect(await create(p, cfg, { stream: true })))));
    assert.deepEqual(streams, sequential);
    assert.ok(new Set(sequential).size > 1, 'the prompts really differ');
  });
});

describe('operations', () => {
  it('`interactd serve --help` lists every flag', T, async () => {
    const r = spawnSync(BIN, ['serve', '--help'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const text = r.stdout + r.stderr;
    for (const f of ['--host', '--port', '--data', '--model', '--api-keys', '--threads', '--max-body', '--retention',
      '--chat-template', '--log-format']) {
      assert.ok(text.includes(f), `--help mentions ${f}`);
    }
    assert.match(text, /INTERACTD_PORT/);
  });

  it('one log line per request, with method, path, status and the interaction id', T, async () => {
    const c = await create('log me');
    await srv.raw('GET', `/v1beta/interactions/${c.id}`);
    // The line is written when the request completes, just after the answer.
    await pollUntil(() => srv.stderr(), (t) => t.split('\n').some((l) => l.includes(c.id) && /GET/.test(l)),
      { timeoutMs: 5000, intervalMs: 20, what: 'the GET log line' }).catch(() => {});
    const lines = srv.stderr().split('\n');
    const post = lines.filter((l) => l.includes(c.id) && /POST/.test(l) && l.includes('/v1beta/interactions') && /\b200\b/.test(l));
    const get = lines.filter((l) => l.includes(c.id) && /GET/.test(l) && /\b200\b/.test(l));
    assert.equal(post.length, 1, `one POST line for ${c.id}`);
    assert.equal(get.length, 1, `one GET line for ${c.id}`);
  });

  it('--log-format json writes one JSON object per line', T, async () => {
    const s = await startServer({ args: ['--log-format', 'json'] });
    const c = await s.client().interactions.create({ model: MODEL, input: 'json log', generation_config: { temperature: 0, max_output_tokens: 4 } });
    await s.stop();
    const objs = s.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const req = objs.find((o) => o.interaction_id === c.id || JSON.stringify(o).includes(c.id));
    assert.ok(req, `a JSON line names ${c.id}`);
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/v1beta/interactions');
    assert.equal(req.status, 200);
    assert.equal(typeof req.ms, 'number');
  });
});

describe('shutdown', () => {
  it('SIGTERM stops the server cleanly (exit 0; under ASan also the leak check)', { timeout: 60_000 }, async () => {
    const s2 = await startServer({ threads: 'default' }); // also covers the default thread count
    const c = await s2.client().interactions.create({
      model: MODEL, input: 'bye', generation_config: { temperature: 0, max_output_tokens: 4 },
    });
    assertEnded(assert, c);
    const info = await s2.stop();
    assert.deepEqual(info, { code: 0, signal: null }, `exit: ${JSON.stringify(info)}\n${s2.stderr()}`);
    assert.deepEqual(s2.checkSanitizers(), []);
  });
});
