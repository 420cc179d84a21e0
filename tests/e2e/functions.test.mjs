// Function calling (the guide's "Chamadas de função", "Chamada de função com
// estado do lado do cliente", "Resultados de função multimodal", "Chamadas de
// ferramentas de streaming") against the random-weight demo model. With
// tool_choice "any" the family's call grammar (llama.cpp's chat library; the
// demo's ChatML gets the Hermes/Qwen tool convention) forces a call whose
// arguments match the function's schema, so the guide's loops run end to
// end: a function_call output with a unique id, status requires_action, the
// client's function_result (through previous_interaction_id or in a
// stateless history), and the model's answer.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAll, T, collect, sdkErrors, assertEnded } from './lib/server.mjs';
import { client3, stepsText } from './lib/steps.mjs';

let srv;
let ai;
const MODEL = 'demo';

const weatherTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Gets the weather for a given location.',
  parameters: {
    type: 'object',
    properties: { location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' } },
    required: ['location'],
  },
};

const scheduleTool = {
  type: 'function',
  name: 'schedule_meeting',
  description: 'Schedules a meeting with specified attendees at a given time and date.',
  parameters: {
    type: 'object',
    properties: {
      attendees: { type: 'array', items: { type: 'string' }, maxItems: 3 },
      date: { type: 'string', description: 'Date of the meeting (e.g., 2024-07-29)' },
      time: { type: 'string', description: 'Time of the meeting (e.g., 15:00)' },
      topic: { type: 'string', description: 'The subject of the meeting.' },
    },
    required: ['attendees', 'date', 'time', 'topic'],
  },
};

const forced = (seed, extra = {}) => ({ tool_choice: 'any', seed, max_output_tokens: 1500, ...extra });
const answer = (seed) => ({ seed, max_output_tokens: 24 });

before(async () => {
  srv = await startServer();
  ai = srv.client();
}, { timeout: 90_000 });
after(stopAll);

describe('function calling', () => {
  it('guide (stateful): call -> requires_action -> function_result via previous_interaction_id -> answer', T, async () => {
    let interaction = await ai.interactions.create({
      model: MODEL, input: 'What is the weather in Paris?', tools: [weatherTool], generation_config: forced(1),
    });
    assert.equal(interaction.status, 'requires_action');
    const calls = interaction.outputs.filter((o) => o.type === 'function_call');
    assert.equal(calls.length, 1);
    const call = calls[0];
    assert.equal(call.name, 'get_weather');
    assert.match(call.id, /^call_[0-9a-f]{24}$/);
    assert.equal(typeof call.arguments, 'object');
    assert.equal(typeof call.arguments.location, 'string');
    const result = `The weather in ${call.arguments.location} is sunny.`;
    const first = interaction.id;
    interaction = await ai.interactions.create({
      model: MODEL, previous_interaction_id: first, generation_config: answer(2),
      input: [{ type: 'function_result', name: call.name, call_id: call.id, result }],
    });
    assertEnded(assert, interaction);
    assert.equal(interaction.outputs[interaction.outputs.length - 1].type, 'text');
    // the stored chain keeps the call and the result
    const again = await ai.interactions.get(first);
    assert.deepEqual(again.outputs.find((o) => o.type === 'function_call'), call);
    const second = await ai.interactions.get(interaction.id, { include_input: true });
    assert.equal(second.input[0].content[0].type, 'function_result');
    assert.equal(second.input[0].content[0].result, result);
  });

  it('guide (client-side state): history with the model outputs and the function_result', T, async () => {
    const history = [{ role: 'user', content: [{ type: 'text', text: 'Schedule a meeting for 2025-11-01 at 10 am with Peter and Amir about the Next Gen API.' }] }];
    const interaction = await ai.interactions.create({
      model: MODEL, input: history, tools: [scheduleTool], generation_config: forced(3), store: false,
    });
    assert.equal(interaction.status, 'requires_action');
    history.push({ role: 'model', content: interaction.outputs });
    const call = interaction.outputs.find((o) => o.type === 'function_call');
    assert.equal(call.name, 'schedule_meeting');
    for (const k of ['attendees', 'date', 'time', 'topic']) assert.ok(k in call.arguments, k);
    assert.ok(Array.isArray(call.arguments.attendees) && call.arguments.attendees.length <= 3);
    history.push({ role: 'user', content: [{ type: 'function_result', name: call.name, call_id: call.id, result: 'Meeting scheduled successfully.' }] });
    const interaction2 = await ai.interactions.create({ model: MODEL, input: history, generation_config: answer(4), store: false });
    assertEnded(assert, interaction2);
    assert.equal(interaction2.outputs[interaction2.outputs.length - 1].type, 'text');
  });

  it('call ids are unique across calls and interactions', T, async () => {
    const ids = new Set();
    for (const seed of [5, 6, 7]) {
      const it = await ai.interactions.create({
        model: MODEL, input: 'Weather in Rome?', tools: [weatherTool], generation_config: forced(seed),
      });
      for (const o of it.outputs.filter((x) => x.type === 'function_call')) ids.add(o.id);
    }
    assert.equal(ids.size, 3);
  });

  it('tool_choice none: plain text, completed; auto on the demo model: valid either way', T, async () => {
    const none = await ai.interactions.create({
      model: MODEL, input: 'What is the weather in Paris?', tools: [weatherTool],
      generation_config: { tool_choice: 'none', seed: 8, max_output_tokens: 16 },
    });
    assertEnded(assert, none);
    assert.ok(none.outputs.every((o) => o.type === 'text'));
    const auto = await ai.interactions.create({
      model: MODEL, input: 'What is the weather in Paris?', tools: [weatherTool],
      generation_config: { seed: 9, max_output_tokens: 16 },
    });
    // the model may call (a whole call: requires_action), answer, or be cut
    // by the limit mid-way (incomplete, and then never a function_call)
    assert.ok(['completed', 'requires_action', 'incomplete'].includes(auto.status));
    if (auto.status !== 'requires_action') assert.ok(auto.outputs.every((o) => o.type !== 'function_call'));
    const allowed = await ai.interactions.create({
      model: MODEL, input: 'Schedule it.', tools: [weatherTool, scheduleTool],
      generation_config: { seed: 10, max_output_tokens: 1500, tool_choice: { allowed_tools: { mode: 'any', tools: ['schedule_meeting'] } } },
    });
    assert.equal(allowed.outputs.find((o) => o.type === 'function_call').name, 'schedule_meeting');
  });

  it('guide (streaming tool calls): content.start function_call, one delta with the whole arguments, content.stop', T, async () => {
    const stream = await ai.interactions.create({
      model: MODEL, input: 'What is the weather in Paris?', tools: [weatherTool], generation_config: forced(11), stream: true,
    });
    const events = await collect(stream);
    const toolCalls = new Map();
    for (const chunk of events) {
      if (chunk.event_type === 'content.delta' && chunk.delta.type === 'function_call') toolCalls.set(chunk.delta.id, chunk.delta);
    }
    assert.equal(toolCalls.size, 1);
    const [delta] = toolCalls.values();
    assert.equal(delta.name, 'get_weather');
    assert.equal(typeof delta.arguments.location, 'string');
    const start = events.find((e) => e.event_type === 'content.start' && e.content.type === 'function_call');
    assert.ok(start, 'content.start of type function_call');
    const idx = start.index;
    assert.equal(events.filter((e) => e.event_type === 'content.delta' && e.index === idx).length, 1);
    assert.ok(events.some((e) => e.event_type === 'content.stop' && e.index === idx));
    const complete = events.find((e) => e.event_type === 'interaction.complete');
    assert.equal(complete.interaction.status, 'requires_action');
    // the stored record matches what was streamed
    const got = await ai.interactions.get(complete.interaction.id);
    assert.deepEqual(got.outputs.find((o) => o.type === 'function_call').arguments, delta.arguments);
  });

  it('with tools (auto), an answer in text streams live in pieces and adds up to the stored text', T, async () => {
    // The partial parse holds back what could start a call, so the text of a
    // request that may call is not held to the end.
    const stream = await ai.interactions.create({
      model: MODEL, input: 'Tell me a story instead.', tools: [weatherTool],
      generation_config: { seed: 8, temperature: 1, max_output_tokens: 120 }, stream: true,
    });
    const events = await collect(stream);
    const complete = events.find((e) => e.event_type === 'interaction.complete');
    const got = await ai.interactions.get(complete.interaction.id);
    const stored = got.outputs.filter((o) => o.type === 'text').map((o) => o.text).join('');
    const deltas = events.filter((e) => e.event_type === 'content.delta' && e.delta.type === 'text');
    assert.ok(!got.outputs.some((o) => o.type === 'function_call'), 'this seed answers in text (pick another if not)');
    assert.ok(stored.length > 40, `a long enough answer to stream in pieces: ${JSON.stringify(stored)}`);
    assert.ok(deltas.length >= 2, `${deltas.length} text deltas`);
    assert.equal(deltas.map((e) => e.delta.text).join(''), stored);
  });

  it('guide (multimodal function result): text parts are read; an image part to a text-only model is a clear 400', T, async () => {
    const it1 = await ai.interactions.create({
      model: MODEL, input: 'Can you take a screenshot of https://google.com and tell me what you see?',
      tools: [{ type: 'function', name: 'take_screenshot', description: 'Takes a screenshot of a specified website.',
        parameters: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] } }],
      generation_config: forced(12),
    });
    const call = it1.outputs.find((o) => o.type === 'function_call');
    const ok = await ai.interactions.create({
      model: MODEL, previous_interaction_id: it1.id, generation_config: answer(13),
      input: [{ type: 'function_result', name: call.name, call_id: call.id, result: [{ type: 'text', text: 'Screenshot captured successfully.' }] }],
    });
    assertEnded(assert, ok);
    const { BadRequestError } = sdkErrors(ai);
    await assert.rejects(ai.interactions.create({
      model: MODEL, previous_interaction_id: it1.id,
      input: [{ type: 'function_result', name: call.name, call_id: call.id, result: [
        { type: 'text', text: 'Screenshot captured successfully.' },
        { type: 'image', mime_type: 'image/png', data: 'iVBORw0KGgo=' }] }],
    }), (e) => e instanceof BadRequestError &&
      /input\[0\]\.result\[1\]: model demo does not take image input \(it takes text; serve it with its projector/.test(e.message));
  });

  it('SDK 3.x (steps): function_call step, arguments_delta when streaming, function_result step back', T, async () => {
    const ai3 = client3(srv);
    const it1 = await ai3.interactions.create({
      model: MODEL, input: 'What is the weather in Paris?', tools: [weatherTool], generation_config: forced(14),
    });
    assert.equal(it1.status, 'requires_action');
    const step = it1.steps.find((s) => s.type === 'function_call');
    assert.equal(step.name, 'get_weather');
    assert.equal(typeof step.arguments.location, 'string');
    const it2 = await ai3.interactions.create({
      model: MODEL, previous_interaction_id: it1.id, generation_config: answer(15),
      input: [{ type: 'function_result', call_id: step.id, name: step.name, result: 'sunny' }],
    });
    assertEnded(assert, it2);
    assert.equal(typeof stepsText(it2), 'string');
    const stream = await ai3.interactions.create({
      model: MODEL, input: 'Weather?', tools: [weatherTool], generation_config: forced(16), stream: true,
    });
    const events = [];
    for await (const e of stream) events.push(e);
    const start = events.find((e) => e.event_type === 'step.start' && e.step?.type === 'function_call');
    assert.ok(start);
    const d = events.find((e) => e.event_type === 'step.delta' && e.index === start.index);
    assert.equal(d.delta.type, 'arguments_delta');
    assert.equal(typeof JSON.parse(d.delta.arguments).location, 'string');
  });
});

describe('function calling with structured output', () => {
  it('guide (tools + structured output): free calls first, then the final answer under the schema', T, async () => {
    const schema = { type: 'object', properties: { winning_team: { type: 'string', maxLength: 30 }, score: { type: 'string', maxLength: 10 } }, required: ['winning_team', 'score'] };
    const seen = new Set();
    for (const seed of [21, 22, 23, 24]) {
      const it1 = await ai.interactions.create({
        model: MODEL, input: 'Who won the last euro?', tools: [weatherTool], response_format: schema,
        generation_config: { seed, max_output_tokens: 800 },
      });
      seen.add(it1.status);
      if (it1.status === 'requires_action') {
        const call = it1.outputs.find((o) => o.type === 'function_call');
        assert.equal(typeof call.arguments.location, 'string');
        // the answer after the result: under the schema
        const it2 = await ai.interactions.create({
          model: MODEL, previous_interaction_id: it1.id, response_format: schema, generation_config: { seed, max_output_tokens: 800 },
          input: [{ type: 'function_result', call_id: call.id, name: call.name, result: 'Spain won, 2-1.' }],
        });
        const v = JSON.parse(it2.outputs[it2.outputs.length - 1].text);
        assert.equal(typeof v.winning_team, 'string');
      } else {
        assertEnded(assert, it1);
        const v = JSON.parse(it1.outputs[it1.outputs.length - 1].text);
        assert.equal(typeof v.winning_team, 'string');
        assert.equal(typeof v.score, 'string');
      }
    }
    assert.ok(seen.size >= 1);
    // the grammar leaves the choice to the model (this random one prefers
    // the answer; the call branch is checked in test_tools.c); with any, a
    // call first, then the answer under the schema:
    const it1 = await ai.interactions.create({
      model: MODEL, input: 'Who won the last euro?', tools: [weatherTool], response_format: schema,
      generation_config: { seed: 30, max_output_tokens: 800, tool_choice: 'any' },
    });
    assert.equal(it1.status, 'requires_action');
    const call = it1.outputs.find((o) => o.type === 'function_call');
    const it2 = await ai.interactions.create({
      model: MODEL, previous_interaction_id: it1.id, response_format: schema, generation_config: { seed: 31, max_output_tokens: 800 },
      input: [{ type: 'function_result', call_id: call.id, name: call.name, result: 'Spain won, 2-1.' }],
    });
    assertEnded(assert, it2);
    const v = JSON.parse(it2.outputs[it2.outputs.length - 1].text);
    assert.equal(typeof v.winning_team, 'string');
    assert.equal(typeof v.score, 'string');
  });
});

describe('function calling: bad inputs', () => {
  const post = (body) => srv.raw('POST', '/v1beta/interactions', { body: { model: MODEL, input: 'x', ...body } });
  it('a function without a name: 400', T, async () => {
    const r = await post({ tools: [{ type: 'function', description: 'nameless' }] });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /tools\[0\]\.name: required/);
  });
  it('parameters that are not a schema: 400', T, async () => {
    const r = await post({ tools: [{ type: 'function', name: 'f', parameters: 'a string' }] });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /tools\[0\]\.parameters: expected a JSON Schema object/);
    const r2 = await post({ tools: [{ type: 'function', name: 'f', parameters: { type: 'object', properties: { n: { type: 'number', multipleOf: 2 } } } }] });
    assert.equal(r2.status, 400);
    assert.match(r2.json.error.message, /'multipleOf'/);
  });
  it('a result for an unknown call: 400 (stateless and chained)', T, async () => {
    const r = await post({ input: [{ role: 'user', content: 'hi' }, { role: 'user', content: [{ type: 'function_result', call_id: 'call_nope', result: 'x' }] }] });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /call_id 'call_nope' matches no function_call/);
    const first = await ai.interactions.create({ model: MODEL, input: 'hi', generation_config: { max_output_tokens: 4 } });
    const r2 = await post({ previous_interaction_id: first.id, input: [{ type: 'function_result', call_id: 'call_nope', result: 'x' }] });
    assert.equal(r2.status, 400);
  });
});
