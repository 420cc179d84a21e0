// The steps dialect with SDK 3.x (`@google/genai` 3.3.0, alias genai3), as a
// user who follows today's Google docs runs it: the same scenarios as the
// 1.52.0 suite's basics, errors and auth, written in 3.x's idiom (`steps`,
// `output_text`, `/v1/interactions`). The raw checks pin what 3.x reads on
// the wire: `steps[]` with `model_output` steps, `service_tier`, no `role`
// and no `outputs`; GET adds the leading `user_input` step; the
// `Api-Revision: 2026-05-20` header selects the dialect on /v1beta; errors
// keep one shape and are never retried by 3.x (its retry codes are 408,
// 409, 429 and 5xx); auth works the same.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAll, T, ID_RE, RFC3339_SECONDS, checkUsage, assertEnded } from './lib/server.mjs';
import { client3, stepsText, outputSteps } from './lib/steps.mjs';

let srv;
let ai;
const CFG = { temperature: 0, max_output_tokens: 8 };

before(async () => {
  srv = await startServer();
  ai = client3(srv);
}, { timeout: 90_000 });
after(stopAll);

const create = (input, cfg = CFG, more = {}) => ai.interactions.create({ model: 'demo', input, generation_config: cfg, ...more });

/** Asserts an SDK 3.x error: class, status, message; returns it. */
function sdkError(name, status, re) {
  return (e) => {
    assert.equal(e.constructor.name, name, `${e.constructor.name} ${e.status}: ${e.message}`);
    assert.equal(e.status, status);
    if (re) assert.match(e.message, re);
    return true;
  };
}

describe('steps dialect: basics (SDK 3.x)', () => {
  it('docs: create with a string input, read output_text and the model_output step', T, async () => {
    const it_ = await create('Tell me a short joke about programming.');
    assertEnded(assert, it_);
    assert.match(it_.id, ID_RE);
    assert.ok(Array.isArray(it_.steps) && it_.steps.length >= 1, 'steps');
    const last = it_.steps[it_.steps.length - 1];
    assert.equal(last.type, 'model_output');
    assert.equal(last.content[0].type, 'text');
    assert.ok(last.content[0].text.length > 0);
    assert.equal(it_.output_text, last.content[0].text, "the SDK's output_text is the model_output text");
    assert.ok(!it_.steps.some((s) => s.type === 'user_input'), 'the create answer leaves the input out');
    assert.equal(it_.role, undefined);
    assert.equal(it_.outputs, undefined);
    checkUsage(assert, it_.usage, { maxOutput: 8 });
  });

  it('the raw resource on /v1: steps, service_tier, no role/outputs, RFC 3339 times, usage zeros', T, async () => {
    const r = await srv.raw('POST', '/v1/interactions', {
      key: 'k', body: { model: 'demo', input: 'Hello', generation_config: { temperature: 0, max_output_tokens: 6 } },
    });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') || '', /application\/json/);
    const j = r.json;
    assert.equal(j.object, 'interaction');
    assertEnded(assert, j);
    assert.equal(j.service_tier, 'standard');
    assert.match(j.created, RFC3339_SECONDS);
    assert.match(j.updated, RFC3339_SECONDS);
    assert.ok(!('role' in j) && !('outputs' in j), `no legacy keys: ${r.text}`);
    assert.deepEqual(j.steps.map((s) => s.type), ['model_output']);
    const u = checkUsage(assert, j.usage, { maxOutput: 6 });
    assert.equal(u.total_thought_tokens, 0);
  });

  it('GET adds the leading user_input step; the rest equals the create answer', T, async () => {
    const c = await create('What is a leading step?');
    const g = await ai.interactions.get(c.id);
    assert.equal(g.id, c.id);
    assertEnded(assert, g);
    assert.deepEqual(g.steps[0], { type: 'user_input', content: [{ type: 'text', text: 'What is a leading step?' }] });
    assert.deepEqual(outputSteps(g), c.steps);
    assert.equal(g.output_text, c.output_text);
    // initial_input_tokens is the SDK's own (its continuation merge adds it).
    const { initial_input_tokens: _first, ...createUsage } = c.usage;
    assert.deepEqual(g.usage, createUsage);
  });

  it('Api-Revision: 2026-05-20 on /v1beta selects the steps dialect; without it /v1beta stays legacy', T, async () => {
    const body = { model: 'demo', input: 'Same prompt, two dialects.', generation_config: { temperature: 0, max_output_tokens: 6 } };
    const s = await srv.raw('POST', '/v1beta/interactions', { key: 'k', body, headers: { 'Api-Revision': '2026-05-20' } });
    assert.equal(s.status, 200, s.text);
    assert.ok(Array.isArray(s.json.steps) && !('outputs' in s.json));
    const later = await srv.raw('POST', '/v1beta/interactions', { key: 'k', body, headers: { 'Api-Revision': '2026-07-01' } });
    assert.ok(Array.isArray(later.json.steps), 'a later revision too');
    const l = await srv.raw('POST', '/v1beta/interactions', { key: 'k', body });
    assert.ok(Array.isArray(l.json.outputs) && !('steps' in l.json) && l.json.role === 'model');
    assert.equal(s.json.steps[0].content[0].text, l.json.outputs[0].text, 'same greedy text in both dialects');
  });

  it('input as Content[] and as one user_input step equal the string form', T, async () => {
    const s = await create('The cat sat on the mat.');
    const c = await create([{ type: 'text', text: 'The cat sat on the mat.' }]);
    const st = await create([{ type: 'user_input', content: [{ type: 'text', text: 'The cat sat on the mat.' }] }]);
    assert.equal(c.output_text, s.output_text);
    assert.equal(st.output_text, s.output_text);
    assert.equal(st.usage.total_input_tokens, s.usage.total_input_tokens);
  });

  it('system_instruction is echoed and reaches the prompt; max_output_tokens caps the output', T, async () => {
    const a = await create('Hello there.', { temperature: 0, max_output_tokens: 3 });
    const b = await create('Hello there.', { temperature: 0, max_output_tokens: 3 }, { system_instruction: 'You are a pirate.' });
    assert.equal(b.system_instruction, 'You are a pirate.');
    assert.ok(b.usage.total_input_tokens > a.usage.total_input_tokens);
    assert.ok(a.usage.total_output_tokens <= 3);
  });

  it('generation_config is echoed as set (create, GET, after a restart), only in this dialect, not inherited', T, async () => {
    const s1 = await startServer();
    const a = client3(s1);
    const gc = { temperature: 0.5, seed: 7, max_output_tokens: 5, stop_sequences: ['END'] };
    const c = await a.interactions.create({ model: 'demo', input: 'Echo my config.', generation_config: gc });
    assert.deepEqual(c.generation_config, gc);
    assert.deepEqual((await a.interactions.get(c.id)).generation_config, gc);
    const legacy = await s1.raw('GET', `/v1beta/interactions/${c.id}`, { key: 'k' });
    assert.ok(!('generation_config' in legacy.json), 'SDK 1.x never had it');
    const next = await a.interactions.create({ model: 'demo', input: 'no config', previous_interaction_id: c.id });
    assert.equal(next.generation_config, undefined, 'only history is inherited');
    const s2 = await s1.restart();
    assert.deepEqual((await client3(s2).interactions.get(c.id)).generation_config, gc, 'stored with the record');
    await s2.stop();
  });

  it('greedy decoding is deterministic, and equal across the two dialects', T, async () => {
    const a = await create('Determinism check.', { temperature: 0, max_output_tokens: 12 });
    const b = await create('Determinism check.', { temperature: 0, max_output_tokens: 12 });
    assert.equal(a.output_text, b.output_text);
    const legacy = await srv.client().interactions.create({ model: 'demo', input: 'Determinism check.',
      generation_config: { temperature: 0, max_output_tokens: 12 } });
    assert.equal(legacy.outputs[0].text, a.output_text);
  });
});

describe('steps dialect: errors (SDK 3.x)', () => {
  it('wrong type: BadRequestError naming the field path, one request (not retried)', T, async () => {
    const n0 = ai.requests.n;
    await assert.rejects(create('hi', { temperature: 'abc' }),
      sdkError('BadRequestError', 400, /generation_config\.temperature/));
    assert.equal(ai.requests.n - n0, 1);
  });

  it('unknown model: NotFoundError listing the served names; unknown id: get/delete/cancel 404', T, async () => {
    const n0 = ai.requests.n;
    await assert.rejects(ai.interactions.create({ model: 'gemini-3-flash-preview', input: 'x' }),
      sdkError('NotFoundError', 404, /demo/));
    const id = 'v1_unknownunknownunknown';
    await assert.rejects(ai.interactions.get(id), sdkError('NotFoundError', 404));
    await assert.rejects(ai.interactions.delete(id), sdkError('NotFoundError', 404));
    await assert.rejects(ai.interactions.cancel(id), sdkError('NotFoundError', 404));
    assert.equal(ai.requests.n - n0, 4);
  });

  it('legacy turns, unserved step types and 3.x-only fields are refused by name', T, async () => {
    await assert.rejects(create([{ role: 'user', content: 'hi' }]),
      sdkError('BadRequestError', 400, /input\[0\]: turns .* give history as steps/));
    await assert.rejects(create([{ type: 'user_input', content: [{ type: 'text', text: 'a' }] },
      { type: 'thought', signature: 'c2ln' }]), sdkError('BadRequestError', 400, /signature is not valid/));
    await assert.rejects(create([{ type: 'user_input', content: [{ type: 'text', text: 'a' }] },
      { type: 'processing_call', id: 'c' }]), sdkError('BadRequestError', 400, /input\[1\]: step type 'processing_call' is not supported yet/));
    await assert.rejects(create('x', CFG, { labels: { team: 'a' } }), sdkError('BadRequestError', 400, /labels: not supported yet/));
    await assert.rejects(create('x', CFG, { safety_settings: [] }), sdkError('BadRequestError', 400, /safety_settings/));
    await assert.rejects(create('x', { transcription_config: {} }),
      sdkError('BadRequestError', 400, /generation_config\.transcription_config: not supported yet/));
    await assert.rejects(create('x', CFG, { tools: [{ type: 'file_search', file_search_store_names: ['fileSearchStores/x'] }] }),
      sdkError('NotFoundError', 404, /tools\[0\]\.file_search_store_names\[0\]: fileSearchStores\/x not found/));
  });

  it("built-in tools' call and result steps in a stateless history: accepted, stored, given back as sent", T, async () => {
    const steps = [
      { type: 'user_input', content: [{ type: 'text', text: 'Read https://example.com/ and run 1+1.' }] },
      { type: 'url_context_call', id: 'u1', arguments: { urls: ['https://example.com/'] } },
      { type: 'url_context_result', call_id: 'u1', result: [{ url: 'https://example.com/', status: 'success' }] },
      { type: 'code_execution_call', id: 'c1', arguments: { code: 'print(1+1)', language: 'python' } },
      { type: 'code_execution_result', call_id: 'c1', result: '2\n' },
      { type: 'file_search_call', id: 'f1' },
      { type: 'file_search_result', call_id: 'f1', result: [] },
      { type: 'model_output', content: [{ type: 'text', text: 'It is 2.' }] },
      { type: 'user_input', content: [{ type: 'text', text: 'Thanks.' }] },
    ];
    const c = await create(steps);
    assertEnded(assert, c);
    const g = await ai.interactions.get(c.id, { include_input: true });
    assert.deepEqual(g.input, steps);
    await assert.rejects(create([steps[0], { type: 'code_execution_result', result: '2' }]),
      sdkError('BadRequestError', 400, /input\[1\]\.call_id: required/));
    await assert.rejects(create([steps[0], { ...steps[3], timeout: 5 }]),
      sdkError('BadRequestError', 400, /unknown field 'input\[1\]\.timeout'/));
  });

  it('continuation_token: a clear 400 (this server never issues one), even with automatic continuation', T, async () => {
    const n0 = ai.requests.n;
    await assert.rejects(create('x', CFG, { continuation_token: 'abc' }),
      sdkError('BadRequestError', 400, /continuation_token: this server never issues continuation tokens/));
    assert.equal(ai.requests.n - n0, 1);
    // A normal answer never asks the SDK to continue: one request per create.
    const n1 = ai.requests.n;
    const r = await create('no continuation here', { temperature: 0, max_output_tokens: 30 });
    assertEnded(assert, r);
    assert.equal(r.continuation_token, undefined);
    assert.equal(ai.requests.n - n1, 1);
  });

  it('error bodies have the legacy shape on /v1 too', T, async () => {
    const r = await srv.raw('POST', '/v1/interactions', { key: 'k', body: { model: 'demo', input: 'x', generation_config: { top_p: 7 } } });
    assert.equal(r.status, 400);
    assert.match(r.headers.get('content-type') || '', /application\/json/);
    assert.deepEqual(Object.keys(r.json), ['error']);
    assert.equal(r.json.error.code, 'invalid_request');
    assert.match(r.json.error.message, /generation_config\.top_p/);
  });
});

describe('steps dialect: auth (SDK 3.x)', () => {
  const KEY_A = 'key-alpha-0123456789';
  const KEY_B = 'key-bravo-9876543210';
  let s;
  before(async () => { s = await startServer({ apiKeys: [KEY_A, KEY_B] }); }, { timeout: 90_000 });

  it('no key: 401 AuthenticationError; wrong key: 403 PermissionDeniedError, not retried', T, async () => {
    const r = await s.raw('POST', '/v1/interactions', { body: { model: 'demo', input: 'x' } });
    assert.equal(r.status, 401);
    assert.equal(typeof r.json?.error?.code, 'string');
    const bad = client3(s, 'not-a-key');
    const n0 = bad.requests.n;
    await assert.rejects(bad.interactions.create({ model: 'demo', input: 'x' }),
      sdkError('PermissionDeniedError', 403));
    assert.equal(bad.requests.n - n0, 1);
  });

  it("a valid key works; key B cannot see, stream, cancel, delete or continue key A's interaction", T, async () => {
    const A = client3(s, KEY_A);
    const B = client3(s, KEY_B);
    const a = await A.interactions.create({ model: 'demo', input: 'mine', generation_config: CFG });
    assertEnded(assert, a);
    assert.equal((await A.interactions.get(a.id)).id, a.id);
    await assert.rejects(B.interactions.get(a.id), sdkError('NotFoundError', 404));
    await assert.rejects(B.interactions.get(a.id, { stream: true }), sdkError('NotFoundError', 404));
    await assert.rejects(B.interactions.cancel(a.id), sdkError('NotFoundError', 404));
    await assert.rejects(B.interactions.delete(a.id), sdkError('NotFoundError', 404));
    await assert.rejects(B.interactions.create({ model: 'demo', input: 'x', previous_interaction_id: a.id }),
      sdkError('NotFoundError', 404));
    assert.equal(stepsText(await A.interactions.get(a.id)), a.output_text);
  });
});
