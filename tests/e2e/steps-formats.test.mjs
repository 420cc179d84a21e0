// The typed response_format (issue 17) as SDK 2.x and 3.x send it:
// `{type: 'text', mime_type: 'application/json', schema}`, alone or in a
// list (SDK 3.3.0's TextResponseFormat, and ImageResponseFormat /
// AudioResponseFormat / VideoResponseFormat beside it). Through the JS SDK
// 3.3.0 on the random-weight demo model: the grammar makes the answer
// schema-valid JSON whatever noise the model would write, in both shapes,
// streamed too, and the Interaction echoes the field in the shape sent. The
// same form works in the legacy dialect (SDK 1.52.0, curl) and from the
// Python SDK 2.19's wire on /v1beta. The image / audio / video formats, an
// unknown format type and conflicting entries are 400s naming the entry,
// surfaced by the SDK as BadRequestError and never retried.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAll, T, collect, deltaText, assertEnded } from './lib/server.mjs';
import { client3, stepsText, stepDeltaText } from './lib/steps.mjs';

const MODEL = 'demo';
const COLORS = ['red', 'green', 'blue'];
const SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z ]{1,12}$' },
    age: { type: 'integer', minimum: 0, maximum: 120 },
    color: { type: 'string', enum: COLORS },
    tags: { type: 'array', items: { type: 'string', pattern: '^[a-z]{1,6}$' }, minItems: 1, maxItems: 3 },
  },
  required: ['name', 'age', 'color', 'tags'],
  additionalProperties: false,
};
const TEXT_JSON = { type: 'text', mime_type: 'application/json', schema: SCHEMA };
const cfg = (seed) => ({ seed, max_output_tokens: 400 });

/** The answer parses as JSON and satisfies SCHEMA. */
function checkPerson(text) {
  const v = JSON.parse(text);
  assert.deepEqual(Object.keys(v).sort(), ['age', 'color', 'name', 'tags']);
  assert.match(v.name, /^[A-Za-z ]{1,12}$/);
  assert.ok(Number.isInteger(v.age) && v.age >= 0 && v.age <= 120, `age ${v.age}`);
  assert.ok(COLORS.includes(v.color), `color ${v.color}`);
  assert.ok(Array.isArray(v.tags) && v.tags.length >= 1 && v.tags.length <= 3);
  for (const t of v.tags) assert.match(t, /^[a-z]{1,6}$/);
  return v;
}

let srv;
let ai3;
before(async () => {
  srv = await startServer();
  ai3 = client3(srv);
}, { timeout: 90_000 });
after(stopAll);

describe('typed response_format through SDK 3.3.0 (steps dialect)', () => {
  it('one TextResponseFormat with a schema: schema-valid JSON, several seeds; echoed as sent', T, async () => {
    for (const seed of [1, 2, 3]) {
      const it_ = await ai3.interactions.create({ model: MODEL, input: 'Describe a person.', response_format: TEXT_JSON,
        generation_config: cfg(seed) });
      assertEnded(assert, it_);
      assert.equal(it_.status, 'completed', 'the JSON was finished');
      checkPerson(it_.output_text);
      assert.deepEqual(it_.response_format, TEXT_JSON);
    }
  });

  it('a list of formats: the same, and the echo is a list; GET echoes it too', T, async () => {
    const it_ = await ai3.interactions.create({ model: MODEL, input: 'Describe a person.', response_format: [TEXT_JSON],
      generation_config: cfg(4) });
    checkPerson(it_.output_text);
    assert.deepEqual(it_.response_format, [TEXT_JSON]);
    const g = await ai3.interactions.get(it_.id);
    assert.deepEqual(g.response_format, [TEXT_JSON]);
    assert.equal(stepsText(g), it_.output_text);
  });

  it('streamed: the step.delta text is the same valid JSON as the stored answer', T, async () => {
    const events = await collect(await ai3.interactions.create({ model: MODEL, input: 'Describe a person.', stream: true,
      response_format: [TEXT_JSON], generation_config: cfg(5) }));
    const text = stepDeltaText(events);
    checkPerson(text);
    const id = events[0].interaction.id;
    assert.equal((await ai3.interactions.get(id)).output_text, text);
  });

  it('application/json without a schema: a JSON object; text/plain: plain text', T, async () => {
    const j = await ai3.interactions.create({ model: MODEL, input: 'Reply in JSON.', generation_config: cfg(6),
      response_format: { type: 'text', mime_type: 'application/json' } });
    const v = JSON.parse(j.output_text);
    assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v));
    const p = await ai3.interactions.create({ model: MODEL, input: 'Say hi.', generation_config: cfg(7),
      response_format: [{ type: 'text', mime_type: 'text/plain' }] });
    assertEnded(assert, p);
    assert.ok(p.output_text.length > 0);
    assert.deepEqual(p.response_format, [{ type: 'text', mime_type: 'text/plain' }]);
  });

  it('the bare JSON Schema still works, and is echoed as itself', T, async () => {
    const it_ = await ai3.interactions.create({ model: MODEL, input: 'Describe a person.', response_format: SCHEMA,
      generation_config: cfg(8) });
    checkPerson(it_.output_text);
    assert.deepEqual(it_.response_format, SCHEMA);
  });
});

describe('typed response_format in the legacy dialect and from other clients', () => {
  it('SDK 1.52.0 sends it verbatim: valid JSON in outputs; the legacy resource echoes nothing', T, async () => {
    const ai1 = srv.client();
    for (const rf of [TEXT_JSON, [TEXT_JSON]]) {
      const it_ = await ai1.interactions.create({ model: MODEL, input: 'Describe a person.', response_format: rf,
        generation_config: cfg(9) });
      checkPerson(it_.outputs[it_.outputs.length - 1].text);
      assert.equal(it_.response_format, undefined);
    }
    const events = await collect(await ai1.interactions.create({ model: MODEL, input: 'Describe a person.', stream: true,
      response_format: TEXT_JSON, generation_config: cfg(10) }));
    checkPerson(deltaText(events));
  });

  it('curl on /v1beta and the Python SDK 2.19 wire', T, async () => {
    const body = { model: MODEL, input: 'Describe a person.', response_format: [TEXT_JSON], generation_config: cfg(11) };
    const curl = await srv.raw('POST', '/v1beta/interactions', { body, headers: { 'user-agent': 'curl/8.5.0' } });
    assert.equal(curl.status, 200, curl.text);
    checkPerson(curl.json.outputs[0].text);
    const py = await srv.raw('POST', '/v1beta/interactions', { body,
      headers: { 'x-goog-api-client': 'google-genai-sdk/2.19.0 gl-python/3.11.7' } });
    assert.equal(py.status, 200, py.text);
    checkPerson(stepsText(py.json));
    assert.deepEqual(py.json.response_format, [TEXT_JSON]);
  });
});

describe('response_format 400s name the entry (SDK 3.3.0: BadRequestError, not retried)', () => {
  const cases = [
    ['an image format beside text, for a model no image engine serves',
      [TEXT_JSON, { type: 'image', aspect_ratio: '16:9', image_size: '1K', mime_type: 'image/jpeg' }], 'invalid_request',
      `model: image output from '${MODEL}' needs an image engine, and none is configured for it; start the server with --upstream ${MODEL}=URL`],
    ['an audio format the server does not encode', { type: 'audio', sample_rate: 24000, mime_type: 'audio/flac' }, 'unimplemented',
      "response_format.mime_type: 'audio/flac' is not served; speech comes as audio/l16, audio/wav, audio/mp3, audio/ogg_opus, audio/alaw or audio/mulaw"],
    ['an audio rate the format cannot take', [{ type: 'audio', mime_type: 'audio/ogg_opus', sample_rate: 44100 }], 'invalid_request',
      'response_format[0].sample_rate: audio/ogg_opus takes 8000, 12000, 16000, 24000, 48000 Hz, not 44100'],
    ['a video format', [{ type: 'video', aspect_ratio: '9:16', resolution: '720p' }], 'unimplemented',
      'response_format[0]: the video format is not supported yet by this server; leave it out'],
    ['a bad image setting', [{ type: 'image', image_size: '8K' }], 'invalid_request',
      "response_format[0].image_size: expected one of '512', '1K', '2K', '4K', got '8K'"],
    // SDK 3.3.0's VideoResponseFormat has no mime_type (Image- and Audio- do)
    ['a video mime_type', [{ type: 'video', resolution: '720p', mime_type: 'video/mp4' }], 'invalid_request',
      "unknown field 'response_format[0].mime_type'"],
    ['an unknown format type', [{ type: 'pdf' }], 'invalid_request',
      "response_format[0].type: unknown format type 'pdf' (expected 'text', 'image', 'audio' or 'video')"],
    ['two text formats', [TEXT_JSON, { type: 'text', mime_type: 'text/plain' }], 'invalid_request',
      "response_format[1]: a second 'text' format (response_format[0] is one already); give one format per output type"],
    ['a schema with text/plain', { type: 'text', mime_type: 'text/plain', schema: SCHEMA }, 'invalid_request',
      "response_format.schema: a JSON Schema asks for JSON, but mime_type is 'text/plain'; set it to " +
      "'application/json', or leave the schema out for plain text"],
    ['a schema keyword the grammar would ignore', [{ type: 'text', schema: { type: 'number', minimum: 1 } }],
      'invalid_request', "response_format[0].schema: schema keyword 'minimum' is not supported for a number"],
  ];
  for (const [what, rf, code, msg] of cases) {
    it(what, T, async () => {
      const ai = client3(srv);
      await assert.rejects(ai.interactions.create({ model: MODEL, input: 'x', response_format: rf }), (e) => {
        assert.equal(e.constructor.name, 'BadRequestError', `${e.constructor.name}: ${e.message}`);
        assert.equal(e.status, 400);
        assert.ok(e.message.includes(msg), e.message);
        return true;
      });
      assert.equal(ai.requests.n, 1, 'not retried');
      const r = await srv.raw('POST', '/v1beta/interactions', { body: { model: MODEL, input: 'x', response_format: rf } });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.code, code);
      assert.ok(r.json.error.message.startsWith(msg), r.json.error.message);
    });
  }

  // A known format type in the wrong place: a whole text format given as
  // the schema of another. The schema check alone would call 'text' an
  // unknown JSON type; the answer names the entry's schema as misplaced.
  for (const [where, rf] of [['response_format.schema', { type: 'text', schema: TEXT_JSON }],
    ['response_format[0].schema', [{ type: 'text', mime_type: 'application/json', schema: TEXT_JSON }]]]) {
    it(`a text format wrapped in another (${where}): misplaced, not an unknown type`, T, async () => {
      const ai = client3(srv);
      await assert.rejects(ai.interactions.create({ model: MODEL, input: 'x', response_format: rf }), (e) => {
        assert.equal(e.constructor.name, 'BadRequestError', `${e.constructor.name}: ${e.message}`);
        return true;
      });
      const r = await srv.raw('POST', '/v1beta/interactions', { body: { model: MODEL, input: 'x', response_format: rf } });
      assert.equal(r.status, 400);
      assert.equal(r.json.error.code, 'invalid_request');
      const m = r.json.error.message;
      assert.ok(m.startsWith(`${where}: `), m);
      assert.match(m, /response format \(type 'text'\), not a JSON Schema/);
      assert.doesNotMatch(m, /unknown/i);
    });
  }
});
