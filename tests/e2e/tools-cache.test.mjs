// Structured output and function calling on the batching engine: a chained
// turn under a schema, and the second turn of a tool loop, reuse the prompt
// prefix the first turn left in its sequence (usage.total_cached_tokens) and
// answer exactly as a server with the prefix cache off; requests with
// different schemas, a forced call and free text sent at once each keep
// their own grammar.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAll, T, textOf, assertEnded } from './lib/server.mjs';

after(stopAll);

const SCHEMA = {
  type: 'object',
  properties: { n: { type: 'integer' }, ok: { type: 'boolean' } },
  required: ['n', 'ok'],
  additionalProperties: false,
};
const COLOURS = { type: 'string', enum: ['red', 'green', 'blue'] };
const weatherTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Gets the weather for a given location.',
  parameters: { type: 'object', properties: { location: { type: 'string', maxLength: 20 } }, required: ['location'] },
};
const validObj = (t) => {
  const v = JSON.parse(t);
  return Number.isInteger(v.n) && typeof v.ok === 'boolean' && Object.keys(v).length === 2;
};

describe('prefix reuse with grammars and tools', () => {
  it('a chained turn under a schema reuses the first turn and answers as a cold server', T, async () => {
    const hot = await startServer();
    const cold = await startServer({ args: ['--prefix-cache', 'off'] });
    const run = async (srv) => {
      const ai = srv.client();
      const t1 = await ai.interactions.create({ model: 'demo', input: 'Give me a number.', response_format: SCHEMA,
        generation_config: { seed: 3, max_output_tokens: 300 } });
      const t2 = await ai.interactions.create({ model: 'demo', input: 'Another one.', response_format: SCHEMA,
        previous_interaction_id: t1.id, generation_config: { seed: 4, max_output_tokens: 300 } });
      return [t1, t2];
    };
    const [h1, h2] = await run(hot);
    const [, c2] = await run(cold);
    assertEnded(assert, h2);
    assert.ok(validObj(textOf(h2)), textOf(h2));
    assert.equal(textOf(h2), textOf(c2));
    assert.equal(c2.usage.total_cached_tokens, 0);
    assert.ok(h2.usage.total_cached_tokens >= h1.usage.total_input_tokens - 1, JSON.stringify(h2.usage));
    assert.ok(h2.usage.total_cached_tokens < h2.usage.total_input_tokens, JSON.stringify(h2.usage));
  });

  it("a tool loop's second turn reuses the prefix of the first", T, async () => {
    const hot = await startServer();
    const cold = await startServer({ args: ['--prefix-cache', 'off'] });
    const run = async (srv) => {
      const ai = srv.client();
      const t1 = await ai.interactions.create({ model: 'demo', input: 'What is the weather in Paris?',
        tools: [weatherTool], generation_config: { tool_choice: 'any', seed: 1, max_output_tokens: 1500 } });
      assert.equal(t1.status, 'requires_action');
      const call = t1.outputs.find((o) => o.type === 'function_call');
      const t2 = await ai.interactions.create({ model: 'demo', previous_interaction_id: t1.id, tools: [weatherTool],
        input: [{ type: 'function_result', name: call.name, call_id: call.id, result: 'Sunny, 21 C.' }],
        generation_config: { seed: 2, max_output_tokens: 24, temperature: 0 } });
      return [t1, t2];
    };
    const [h1, h2] = await run(hot);
    const [, c2] = await run(cold);
    assertEnded(assert, h2);
    assert.equal(textOf(h2), textOf(c2));
    // all of turn 1's prompt (tools section included) at least; the call is
    // re-rendered from the stored call, so reuse may stop inside it
    assert.ok(h2.usage.total_cached_tokens >= h1.usage.total_input_tokens - 1, JSON.stringify(h2.usage));
    assert.ok(h2.usage.total_cached_tokens < h2.usage.total_input_tokens, JSON.stringify(h2.usage));
  });

  it('schemas, a forced call and free text sent at once each keep their own constraint', T, async () => {
    const srv = await startServer();
    const ai = srv.client();
    const reqs = [
      ai.interactions.create({ model: 'demo', input: 'A number?', response_format: SCHEMA,
        generation_config: { seed: 5, max_output_tokens: 300 } }),
      ai.interactions.create({ model: 'demo', input: 'A colour?', response_format: COLOURS,
        generation_config: { seed: 6, max_output_tokens: 300 } }),
      ai.interactions.create({ model: 'demo', input: 'Weather in Rome?', tools: [weatherTool],
        generation_config: { tool_choice: 'any', seed: 7, max_output_tokens: 1500 } }),
      ai.interactions.create({ model: 'demo', input: 'Tell me a story.', generation_config: { seed: 8, max_output_tokens: 40 } }),
    ];
    const [obj, col, call, free] = await Promise.all(reqs);
    assert.ok(validObj(textOf(obj)), textOf(obj));
    assert.ok(['red', 'green', 'blue'].includes(JSON.parse(textOf(col))), textOf(col));
    assert.equal(call.status, 'requires_action');
    const c = call.outputs.find((o) => o.type === 'function_call');
    assert.equal(c.name, 'get_weather');
    assert.equal(typeof c.arguments.location, 'string');
    assertEnded(assert, free);
    assert.ok(!free.outputs.some((o) => o.type === 'function_call'));
  });
});
