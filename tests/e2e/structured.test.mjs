// Structured output (the guide's "Saída estruturada" and "Combinar
// ferramentas e saída estruturada") against the random-weight demo model:
// whatever noise the model would write, the grammar built from
// response_format makes the text parse as JSON and satisfy the schema. The
// moderation schema is sent as Pydantic's model_json_schema() and zod 4's
// z.toJSONSchema() emit it (written out by hand here). Schema keywords the
// grammar would ignore are refused with a 400 naming them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAll, T, collect, deltaText, sdkErrors, assertEnded } from './lib/server.mjs';
import { client3, stepsText } from './lib/steps.mjs';

let srv;
let ai;
const MODEL = 'demo';
const MODERATE = "Moderate the following content: 'Congratulations! You've won a free cruise. Click here to claim your prize: www.definitely-not-a-scam.com'";
const SPAM_TYPES = ['phishing', 'scam', 'unsolicited promotion', 'other'];

// Pydantic 2: ModerationResult.model_json_schema()
const PYDANTIC = {
  $defs: {
    NotSpamDetails: {
      properties: {
        summary: { description: 'A brief summary of the content.', title: 'Summary', type: 'string' },
        is_safe: { description: 'Whether the content is safe for all audiences.', title: 'Is Safe', type: 'boolean' },
      },
      required: ['summary', 'is_safe'], title: 'NotSpamDetails', type: 'object',
    },
    SpamDetails: {
      properties: {
        reason: { description: 'The reason why the content is considered spam.', title: 'Reason', type: 'string' },
        spam_type: { enum: SPAM_TYPES, title: 'Spam Type', type: 'string' },
      },
      required: ['reason', 'spam_type'], title: 'SpamDetails', type: 'object',
    },
  },
  properties: {
    decision: { anyOf: [{ $ref: '#/$defs/SpamDetails' }, { $ref: '#/$defs/NotSpamDetails' }], title: 'Decision' },
  },
  required: ['decision'], title: 'ModerationResult', type: 'object',
};

// zod 4: z.toJSONSchema(moderationSchema)
const ZOD = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    decision: {
      anyOf: [
        {
          description: 'Details for content classified as spam.', type: 'object',
          properties: {
            reason: { description: 'The reason why the content is considered spam.', type: 'string' },
            spam_type: { description: 'The type of spam.', type: 'string', enum: SPAM_TYPES },
          },
          required: ['reason', 'spam_type'], additionalProperties: false,
        },
        {
          description: 'Details for content classified as not spam.', type: 'object',
          properties: {
            summary: { description: 'A brief summary of the content.', type: 'string' },
            is_safe: { description: 'Whether the content is safe for all audiences.', type: 'boolean' },
          },
          required: ['summary', 'is_safe'], additionalProperties: false,
        },
      ],
    },
  },
  required: ['decision'], additionalProperties: false,
};

// The guide's REST example.
const REST = {
  type: 'object',
  properties: {
    decision: {
      type: 'object',
      properties: {
        reason: { type: 'string', description: 'The reason why the content is considered spam.' },
        spam_type: { type: 'string', description: 'The type of spam.' },
      },
      required: ['reason', 'spam_type'],
    },
  },
  required: ['decision'],
};

/** ModerationResult.model_validate_json, by hand. closed: no extra keys. */
function checkModeration(text, closed) {
  const v = JSON.parse(text);
  assert.deepEqual(Object.keys(v), ['decision']);
  const d = v.decision;
  if ('reason' in d) {
    assert.equal(typeof d.reason, 'string');
    assert.ok(SPAM_TYPES.includes(d.spam_type), `spam_type ${d.spam_type}`);
    if (closed) assert.deepEqual(Object.keys(d).sort(), ['reason', 'spam_type']);
  } else {
    assert.equal(typeof d.summary, 'string');
    assert.equal(typeof d.is_safe, 'boolean');
    if (closed) assert.deepEqual(Object.keys(d).sort(), ['is_safe', 'summary']);
  }
  return v;
}

const cfg = (seed) => ({ seed, max_output_tokens: 2000 });

before(async () => {
  srv = await startServer();
  ai = srv.client();
}, { timeout: 90_000 });
after(stopAll);

describe('structured output', () => {
  it('guide (Python): Pydantic ModerationResult.model_json_schema() validates, several seeds', T, async () => {
    for (const seed of [1, 2, 3]) {
      const interaction = await ai.interactions.create({
        model: MODEL, input: MODERATE, response_format: PYDANTIC, generation_config: cfg(seed),
      });
      assertEnded(assert, interaction);
      checkModeration(interaction.outputs[interaction.outputs.length - 1].text, false);
    }
  });

  it('guide (JavaScript): zod z.toJSONSchema() validates, closed objects stay closed', T, async () => {
    for (const seed of [4, 5, 6]) {
      const interaction = await ai.interactions.create({
        model: MODEL, input: MODERATE, response_format: ZOD, generation_config: cfg(seed),
      });
      assertEnded(assert, interaction);
      checkModeration(interaction.outputs[0].text, true);
    }
  });

  it('guide (REST): the inline schema, with response_mime_type application/json', T, async () => {
    const interaction = await ai.interactions.create({
      model: MODEL, input: MODERATE, response_format: REST, response_mime_type: 'application/json',
      generation_config: cfg(7),
    });
    const v = JSON.parse(interaction.outputs[0].text);
    assert.equal(typeof v.decision.reason, 'string');
    assert.equal(typeof v.decision.spam_type, 'string');
  });

  it('guide: tools + structured output (winning_team, score); the search tool itself is not served', T, async () => {
    const schema = { type: 'object', properties: { winning_team: { type: 'string' }, score: { type: 'string' } } };
    const interaction = await ai.interactions.create({
      model: MODEL, input: 'Who won the last euro?', response_format: schema, generation_config: cfg(8),
    });
    const v = JSON.parse(interaction.outputs[0].text);
    for (const k of Object.keys(v)) assert.ok(['winning_team', 'score'].includes(k), k);
    for (const x of Object.values(v)) assert.equal(typeof x, 'string');
    const { BadRequestError } = sdkErrors(ai);
    await assert.rejects(ai.interactions.create({
      model: MODEL, input: 'Who won the last euro?', tools: [{ type: 'google_search' }], response_format: schema,
    }), (e) => e.status === 501 || e instanceof BadRequestError);
  });

  it('streaming: the text deltas concatenate to the same valid JSON as the stored output', T, async () => {
    const stream = await ai.interactions.create({
      model: MODEL, input: MODERATE, response_format: ZOD, generation_config: cfg(9), stream: true,
    });
    const events = await collect(stream);
    const text = deltaText(events);
    checkModeration(text, true);
    const id = events.find((e) => e.event_type === 'interaction.start').interaction.id;
    const got = await ai.interactions.get(id);
    assert.equal(got.outputs[0].text, text);
  });

  it('response_mime_type application/json alone: a JSON object', T, async () => {
    const interaction = await ai.interactions.create({
      model: MODEL, input: 'Reply in JSON.', response_mime_type: 'application/json', generation_config: cfg(10),
    });
    const v = JSON.parse(interaction.outputs[0].text);
    assert.equal(typeof v, 'object');
    assert.ok(v !== null && !Array.isArray(v));
  });

  it('every keyword family: formats, patterns, bounds, tuples, nullable, $ref', T, async () => {
    const schema = {
      $defs: { Point: { type: 'object', properties: { x: { type: 'integer', minimum: -5, maximum: 5 } }, required: ['x'] } },
      type: 'object',
      properties: {
        day: { type: 'string', format: 'date' },
        id: { type: 'string', format: 'uuid' },
        code: { type: 'string', pattern: '^[A-Z]{2}-\\d{3}$' },
        tags: { type: 'array', items: { type: 'string', maxLength: 4 }, minItems: 1, maxItems: 2 },
        pair: { type: 'array', prefixItems: [{ type: 'boolean' }, { type: 'null' }] },
        maybe: { type: ['number', 'null'] },
        at: { $ref: '#/$defs/Point' },
      },
      required: ['day', 'id', 'code', 'tags', 'pair', 'maybe', 'at'],
      additionalProperties: false,
    };
    const interaction = await ai.interactions.create({
      model: MODEL, input: 'Fill it in.', response_format: schema, generation_config: cfg(11),
    });
    const v = JSON.parse(interaction.outputs[0].text);
    assert.match(v.day, /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/);
    assert.match(v.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
    assert.match(v.code, /^[A-Z]{2}-\d{3}$/);
    assert.ok(v.tags.length >= 1 && v.tags.length <= 2 && v.tags.every((t) => [...t].length <= 4));
    assert.equal(v.pair.length, 2);
    assert.equal(typeof v.pair[0], 'boolean');
    assert.equal(v.pair[1], null);
    assert.ok(v.maybe === null || typeof v.maybe === 'number');
    assert.ok(Number.isInteger(v.at.x) && v.at.x >= -5 && v.at.x <= 5);
  });

  it('SDK 3.x (steps dialect): one JSON Schema works there too', T, async () => {
    const ai3 = client3(srv);
    const interaction = await ai3.interactions.create({
      model: MODEL, input: MODERATE, response_format: ZOD, generation_config: cfg(12),
    });
    checkModeration(stepsText(interaction), true);
  });
});

describe('structured output: bad schemas are a 400 naming the keyword', () => {
  const cases = [
    [{ type: 'object', properties: { n: { type: 'number', minimum: 0 } } }, /response_format\.properties\.n: schema keyword 'minimum'/],
    [{ type: 'string', format: 'uri' }, /format 'uri' is not supported/],
    [{ type: 'array', items: { type: 'string' }, uniqueItems: true }, /'uniqueItems'/],
    [{ type: 'object', properties: { a: { type: 'string' } }, minProperties: 1 }, /'minProperties'/],
    [{ type: 'string', pattern: '^(?!x).*$' }, /response_format\.pattern: .* is not supported/],
    [{ type: 'string', nullable: true }, /'nullable'.*"null"/],
    [{ $ref: 'https://example.com/schema.json' }, /\$ref/],
    [{ not: { type: 'string' } }, /'not'/],
  ];
  for (const [schema, re] of cases) {
    it(`refuses ${JSON.stringify(schema).slice(0, 60)}`, T, async () => {
      const r = await srv.raw('POST', '/v1beta/interactions', { body: { model: MODEL, input: 'x', response_format: schema } });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error.code, 'invalid_request');
      assert.match(r.json.error.message, re);
    });
  }

  it('text/plain beside a schema contradicts it (400); the SDK surfaces it as BadRequestError', T, async () => {
    const { BadRequestError } = sdkErrors(ai);
    await assert.rejects(ai.interactions.create({
      model: MODEL, input: 'x', response_format: REST, response_mime_type: 'text/plain',
    }), (e) => e instanceof BadRequestError && /contradicts response_format/.test(e.message));
  });
});
