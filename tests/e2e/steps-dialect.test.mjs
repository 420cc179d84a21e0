// Which dialect a /v1beta client gets (issue 17). Google's Python SDK 2.x
// (`google-genai` 2.19, `client.interactions`) calls /v1beta with no
// Api-Revision and parses only the steps dialect; it names itself in
// `x-goog-api-client` alone. It cannot be installed here, so its wire is
// replayed byte for byte: the headers its Stainless-generated client sends
// (the server reads only x-goog-api-client), its paths and query strings,
// and bodies as Python's json writes them (0.0 for a float). The answers are
// checked as that SDK parses them: `steps` (its output_text is the
// model_output text), stream events of the steps dialect only (any other is
// its UnknownInteractionSSEEvent), `[DONE]`, GET with the leading user_input
// step, a resumed stream. Around it, the rest of the rule: an explicit
// Api-Revision still wins, SDK 1.52.0 and curl still get the legacy
// dialect unchanged, SDK 3.3.0 on /v1beta works without a header, and
// `--default-dialect steps` (or INTERACTD_DEFAULT_DIALECT) flips the
// default for clients that name nothing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  startServer, stopAll, T, BIN, parseSSE, collect, deltaText, textOf, checkUsage, assertEnded,
} from './lib/server.mjs';
import { client3, stepsText, outputSteps, checkStepsOrder } from './lib/steps.mjs';

const PY_CLIENT = 'google-genai-sdk/2.19.0 gl-python/3.11.7';
/** The headers google-genai 2.19's interactions client sends (Stainless
 * defaults plus Google's x-goog-api-client / user-agent and the key). */
const PY_HEADERS = {
  accept: 'application/json',
  'content-type': 'application/json',
  'user-agent': PY_CLIENT,
  'x-goog-api-client': PY_CLIENT,
  'x-stainless-lang': 'python',
  'x-stainless-package-version': '2.19.0',
  'x-stainless-runtime': 'CPython',
  'x-stainless-runtime-version': '3.11.7',
  'x-stainless-async': 'false',
  'x-stainless-retry-count': '0',
};
const STEPS_EVENTS = new Set(['interaction.created', 'interaction.status_update', 'step.start', 'step.delta',
  'step.stop', 'interaction.completed', 'error']);

let srv;
before(async () => { srv = await startServer(); }, { timeout: 90_000 });
after(stopAll);

/** Python SDK 2.19: POST /v1beta/interactions, body text as Python writes it. */
const pyCreate = (s, body, extra = {}) => s.raw('POST', '/v1beta/interactions',
  { key: 'k', headers: { ...PY_HEADERS, ...extra }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const pyGet = (s, p) => s.raw('GET', `/v1beta/interactions/${p}`, { key: 'k', headers: PY_HEADERS });
const PY_BODY = '{"model": "demo", "input": "Tell me a short joke about programming.", ' +
  '"generation_config": {"temperature": 0.0, "max_output_tokens": 8}}';
const PY_STREAM_BODY = '{"model": "demo", "input": "Count from 1 to 25.", "stream": true, ' +
  '"generation_config": {"temperature": 0.0, "max_output_tokens": 16}}';

/** What SDK 2.x computes as output_text: the model_output steps' text. */
const outputText = (it) => stepsText(it);

/** The SSE body of a steps-dialect stream, checked as the Python SDK reads it. */
function stepsFrames(r) {
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') || '', /^text\/event-stream/);
  const { frames, endsWithBlankLine } = parseSSE(r.text);
  assert.ok(endsWithBlankLine, 'the last frame ends with a blank line');
  assert.equal(frames[frames.length - 1].data, '[DONE]');
  const events = frames.filter((f) => f.data !== '[DONE]').map((f) => {
    assert.equal(f.event, f.json.event_type, 'event: line and event_type agree');
    assert.ok(STEPS_EVENTS.has(f.json.event_type), `a steps-dialect event: ${f.json.event_type}`);
    return f.json;
  });
  return events;
}

describe('Python SDK 2.19 on /v1beta, replayed: the steps dialect, no Api-Revision needed', () => {
  let created;

  it('create: steps with the model_output text (output_text), no outputs/role', T, async () => {
    const r = await pyCreate(srv, PY_BODY);
    assert.equal(r.status, 200, r.text);
    const j = r.json;
    assertEnded(assert, j);
    assert.ok(Array.isArray(j.steps), `steps present: ${r.text}`);
    assert.deepEqual(j.steps.map((s) => s.type), ['model_output']);
    assert.ok(outputText(j).length > 0, 'output_text is not empty');
    assert.ok(!('outputs' in j) && !('role' in j), 'no legacy keys');
    assert.equal(j.service_tier, 'standard');
    assert.deepEqual(j.generation_config, { temperature: 0, max_output_tokens: 8 });
    checkUsage(assert, j.usage, { maxOutput: 8 });
    created = j;
  });

  it('get: the same interaction, steps led by the user_input step', T, async () => {
    const r = await pyGet(srv, created.id);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.steps[0],
      { type: 'user_input', content: [{ type: 'text', text: 'Tell me a short joke about programming.' }] });
    assert.deepEqual(outputSteps(r.json), created.steps);
    assert.equal(outputText(r.json), outputText(created));
  });

  it('create with stream=true: SSE of steps events only, ending with [DONE]', T, async () => {
    const events = stepsFrames(await pyCreate(srv, PY_STREAM_BODY));
    const id = checkStepsOrder(assert, events);
    const text = events.filter((e) => e.event_type === 'step.delta').map((e) => e.delta.text).join('');
    assert.ok(text.length > 0);
    const got = await pyGet(srv, id);
    assert.equal(outputText(got.json), text, 'the stream rebuilds the stored output_text');
  });

  it('get with stream=true&last_event_id: the rest of the stream, in the steps dialect', T, async () => {
    const full = stepsFrames(await pyCreate(srv, PY_STREAM_BODY));
    const id = full[0].interaction.id;
    const k = 2;
    const rest = stepsFrames(await pyGet(srv, `${id}?stream=true&last_event_id=${encodeURIComponent(full[k].event_id)}`));
    assert.deepEqual(rest.map((e) => e.event_id), full.slice(k + 1).map((e) => e.event_id));
    assert.deepEqual(rest.map((e) => e.event_type), full.slice(k + 1).map((e) => e.event_type));
    const all = stepsFrames(await pyGet(srv, `${id}?stream=true`));
    assert.deepEqual(all.map((e) => e.event_type), full.map((e) => e.event_type));
  });

  it('the body is decoded in the steps dialect too: history as steps; SDK 3.x-only fields', T, async () => {
    const r = await pyCreate(srv, {
      model: 'demo', generation_config: { max_output_tokens: 4 },
      input: [{ type: 'user_input', content: [{ type: 'text', text: 'Hi' }] },
        { type: 'model_output', content: [{ type: 'text', text: 'Hello' }] },
        { type: 'user_input', content: [{ type: 'text', text: 'Again' }] }],
    });
    assert.equal(r.status, 200, r.text);
    assert.ok(Array.isArray(r.json.steps));
    const e = await pyCreate(srv, { model: 'demo', input: 'x', labels: { a: 'b' } });
    assert.equal(e.status, 400);
    assert.deepEqual(e.json, { error: { message: 'labels: not supported yet by this server', code: 'unimplemented' } });
  });

  it('errors keep their one shape; a 404 GET and a bad resume point', T, async () => {
    const nf = await pyGet(srv, 'v1_nope');
    assert.equal(nf.status, 404);
    assert.equal(nf.json.error.code, 'not_found');
    const bad = await pyGet(srv, `${created.id}?stream=true&last_event_id=evt_x`);
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /^last_event_id: not an event of interaction /);
  });

  it('an interaction made by SDK 1.52.0 (legacy) reads as steps for the Python SDK, live and resumed', T, async () => {
    const ai1 = srv.client();
    const legacy = await collect(await ai1.interactions.create({ model: 'demo', input: 'Cross over.', stream: true,
      generation_config: { temperature: 0, max_output_tokens: 8 } }));
    assert.equal(legacy[0].event_type, 'interaction.start');
    const id = legacy[0].interaction.id;
    const g = await pyGet(srv, id);
    assert.equal(outputText(g.json), deltaText(legacy));
    const rest = stepsFrames(await pyGet(srv, `${id}?stream=true&last_event_id=${legacy[1].event_id}`));
    assert.equal(rest[0].event_type, 'step.start');
  });
});

describe('the rest of the rule on /v1beta', () => {
  const body = { model: 'demo', input: 'Hello', generation_config: { temperature: 0, max_output_tokens: 4 } };
  const isLegacy = (j) => Array.isArray(j.outputs) && j.role === 'model' && !('steps' in j);
  const isSteps = (j) => Array.isArray(j.steps) && !('outputs' in j) && !('role' in j);

  it('an explicit Api-Revision wins over the SDK header, both ways', T, async () => {
    const old = await pyCreate(srv, body, { 'api-revision': '2025-01-01' });
    assert.equal(old.status, 200, old.text);
    assert.ok(isLegacy(old.json), old.text);
    const sdk1New = await srv.raw('POST', '/v1beta/interactions', { body,
      headers: { 'x-goog-api-client': 'google-genai-sdk/1.52.0 gl-node/v20.19.4', 'Api-Revision': '2026-05-20' } });
    assert.ok(isSteps(sdk1New.json), sdk1New.text);
  });

  it('an Api-Revision that is not a date is a 400 naming the header, whoever asks', T, async () => {
    for (const [rev, headers] of [['latest', PY_HEADERS], ['2026-5-1', {}], ['v2', { 'user-agent': 'curl/8.5.0' }],
      ['2026-02-30', { 'x-goog-api-client': 'google-genai-sdk/1.52.0 gl-node/v20.19.4' }]]) {
      const r = await srv.raw('POST', '/v1beta/interactions', { key: 'k', body, headers: { ...headers, 'Api-Revision': rev } });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error.code, 'invalid_request');
      assert.equal(r.json.error.message, `Api-Revision: expected a date like 2026-05-20, not '${rev}'`);
    }
  });

  it('/v1beta answers say they vary with Api-Revision and x-goog-api-client; /v1 answers do not', T, async () => {
    const VARY = 'Api-Revision, x-goog-api-client';
    const legacy = await srv.raw('POST', '/v1beta/interactions', { key: 'k', body });
    const steps = await pyCreate(srv, body);
    assert.equal(legacy.headers.get('vary'), VARY);
    assert.equal(steps.headers.get('vary'), VARY);
    assert.equal((await pyGet(srv, steps.json.id)).headers.get('vary'), VARY);
    const stream = await pyCreate(srv, { ...body, stream: true });
    assert.equal(stream.headers.get('vary'), VARY);
    const bad = await srv.raw('GET', `/v1beta/interactions/${steps.json.id}`, { key: 'k', headers: { 'Api-Revision': 'x' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('vary'), VARY);
    const v1 = await srv.raw('GET', `/v1/interactions/${steps.json.id}`, { key: 'k' });
    assert.equal(v1.status, 200);
    assert.equal(v1.headers.get('vary'), null);
  });

  it('SDK 1.x header, curl and no header: the legacy dialect, as before', T, async () => {
    for (const headers of [{ 'x-goog-api-client': 'google-genai-sdk/1.52.0 gl-node/v20.19.4' },
      { 'user-agent': 'curl/8.5.0', accept: '*/*' }, {}]) {
      const r = await srv.raw('POST', '/v1beta/interactions', { body, headers });
      assert.equal(r.status, 200, r.text);
      assert.ok(isLegacy(r.json), `${JSON.stringify(headers)}: ${r.text}`);
      const s = parseSSE((await srv.raw('POST', '/v1beta/interactions', { body: { ...body, stream: true }, headers })).text);
      assert.equal(s.frames[0].json.event_type, 'interaction.start');
      assert.ok(s.frames.some((f) => f.json?.event_type === 'content.delta'));
    }
  });

  it('the official SDK 1.52.0: outputs and content.* events, unchanged', T, async () => {
    const ai1 = srv.client();
    const it_ = await ai1.interactions.create(body);
    assertEnded(assert, it_);
    assert.ok(textOf(it_).length > 0 && it_.steps === undefined);
    const events = await collect(await ai1.interactions.create({ ...body, stream: true }));
    assert.equal(events[0].event_type, 'interaction.start');
    assert.equal(events[events.length - 1].event_type, 'interaction.complete');
    assert.equal((await ai1.interactions.get(it_.id)).outputs[0].text, textOf(it_));
  });

  it('SDK 3.3.0 pointed at /v1beta (apiVersion v1beta) needs no Api-Revision any more', T, async () => {
    const ai3 = client3(srv, 'k', { apiVersion: 'v1beta' });
    const it_ = await ai3.interactions.create(body);
    assert.ok(it_.output_text.length > 0, 'output_text from steps');
    assert.match(ai3.requests.urls[0], /\/v1beta\/interactions$/);
    const events = await collect(await ai3.interactions.create({ ...body, stream: true }));
    checkStepsOrder(assert, events);
  });
});

describe('--default-dialect', () => {
  const body = { model: 'demo', input: 'Hello', generation_config: { temperature: 0, max_output_tokens: 4 } };

  for (const how of ['flag', 'env']) {
    it(`steps (${how}): clients that name nothing get steps; an older Api-Revision still gets legacy`, T, async () => {
      const s = how === 'flag' ? await startServer({ args: ['--default-dialect', 'steps'] })
        : await startServer({ env: { INTERACTD_DEFAULT_DIALECT: 'steps' } });
      try {
        const curl = await s.raw('POST', '/v1beta/interactions', { body, headers: { 'user-agent': 'curl/8.5.0' } });
        assert.ok(Array.isArray(curl.json.steps) && !('outputs' in curl.json), curl.text);
        const sse = parseSSE((await s.raw('POST', '/v1beta/interactions', { body: { ...body, stream: true } })).text);
        assert.equal(sse.frames[0].json.event_type, 'interaction.created');
        const get = await s.raw('GET', `/v1beta/interactions/${curl.json.id}`);
        assert.equal(get.json.steps[0].type, 'user_input');
        const py = await pyCreate(s, PY_BODY);
        assert.ok(Array.isArray(py.json.steps), py.text);
        const old = await s.raw('POST', '/v1beta/interactions', { body, headers: { 'Api-Revision': '2025-01-01' } });
        assert.ok(Array.isArray(old.json.outputs) && !('steps' in old.json), old.text);
        // SDK 1.x names no dialect either: the default decides for it too.
        const sdk1 = await s.raw('POST', '/v1beta/interactions',
          { body, headers: { 'x-goog-api-client': 'google-genai-sdk/1.52.0 gl-node/v20.19.4' } });
        assert.ok(Array.isArray(sdk1.json.steps), sdk1.text);
      } finally {
        await s.stop();
      }
    });
  }

  it('legacy is the default; a bad value exits 2 naming the flag; --help lists it', T, async () => {
    const s = await startServer({ args: ['--default-dialect', 'legacy'] });
    try {
      const r = await s.raw('POST', '/v1beta/interactions', { body });
      assert.ok(Array.isArray(r.json.outputs), r.text);
    } finally {
      await s.stop();
    }
    const bad = spawnSync(BIN, ['serve', '--default-dialect', 'v2'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--default-dialect: expected legacy or steps, not 'v2'/);
    const help = spawnSync(BIN, ['serve', '--help'], { encoding: 'utf8' });
    assert.match(help.stdout, /--default-dialect legacy\|steps/);
    assert.match(help.stdout, /env INTERACTD_DEFAULT_DIALECT, default legacy/);
  });
});
