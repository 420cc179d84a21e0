// Output cut short says so. A run that stops because it reached
// max_output_tokens ends `incomplete` — in the create answer, GET, the
// status update and closing events of both dialects, background runs and
// the store — while `completed` means the model ended on its own (here: a
// grammar that completes). What was generated is kept as what it is: text
// as text, a thought as a thought; a function call cut mid-way is never a
// function_call (its raw syntax is the text) and never requires_action. A
// chain continues from an incomplete turn.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, stopAll, T, collect, pollUntil, DEMO_MODEL, REPO_ROOT } from './lib/server.mjs';
import { client3, stepsText } from './lib/steps.mjs';

let srv;
let ai;
const R1 = path.join(REPO_ROOT, 'build/llama.cpp/models/templates/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja');

before(async () => {
  srv = await startServer({ models: { demo: DEMO_MODEL, think: DEMO_MODEL }, args: ['--chat-template', `think=${R1}`] });
  ai = srv.client();
}, { timeout: 90_000 });
after(stopAll);

const CUT = { temperature: 0, max_output_tokens: 5 };
const weatherTool = {
  type: 'function', name: 'get_weather', description: 'Gets the weather for a given location.',
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
};

describe('incomplete: output cut by max_output_tokens', () => {
  it('legacy: create, GET, status update and interaction.complete say incomplete; the text is kept', T, async () => {
    const it1 = await ai.interactions.create({ model: 'demo', input: 'Tell me a long story.', generation_config: CUT });
    assert.equal(it1.status, 'incomplete');
    assert.equal(it1.usage.total_output_tokens, 5);
    assert.equal(it1.outputs.at(-1).type, 'text');
    assert.ok(it1.outputs.at(-1).text.length > 0, 'what was generated is kept');
    const got = await ai.interactions.get(it1.id);
    assert.equal(got.status, 'incomplete');
    assert.equal(got.outputs.at(-1).text, it1.outputs.at(-1).text);

    const events = await collect(await ai.interactions.create({
      model: 'demo', input: 'Tell me a long story.', generation_config: CUT, stream: true,
    }));
    const statuses = events.filter((e) => e.event_type === 'interaction.status_update').map((e) => e.status);
    assert.deepEqual(statuses, ['in_progress', 'incomplete']);
    const last = events.at(-1);
    assert.equal(last.event_type, 'interaction.complete');
    assert.equal(last.interaction.status, 'incomplete');
    // the same text as the blocking run (greedy), streamed
    const text = events.filter((e) => e.event_type === 'content.delta').map((e) => e.delta.text).join('');
    assert.equal(text, it1.outputs.at(-1).text);
    // the replay of the stored log ends the same way
    const replay = await collect(await ai.interactions.get(last.interaction.id, { stream: true }));
    assert.equal(replay.at(-1).interaction.status, 'incomplete');
  });

  it('steps (SDK 3.x): the model_output step is kept; interaction.completed says incomplete', T, async () => {
    const ai3 = client3(srv);
    const it1 = await ai3.interactions.create({ model: 'demo', input: 'Tell me a long story.', generation_config: CUT });
    assert.equal(it1.status, 'incomplete');
    assert.ok(stepsText(it1).length > 0);
    const events = await collect(await ai3.interactions.create({
      model: 'demo', input: 'Tell me a long story.', generation_config: CUT, stream: true,
    }));
    const done = events.find((e) => e.event_type === 'interaction.completed');
    assert.equal(done.interaction.status, 'incomplete');
    assert.equal((await ai3.interactions.get(it1.id)).status, 'incomplete');
  });

  it('background: in_progress, then incomplete', T, async () => {
    const bg = await ai.interactions.create({ model: 'demo', input: 'Go on.', background: true, generation_config: CUT });
    assert.equal(bg.status, 'in_progress');
    const done = await pollUntil(() => ai.interactions.get(bg.id), (g) => g.status !== 'in_progress');
    assert.equal(done.status, 'incomplete');
    assert.equal(done.usage.total_output_tokens, 5);
  });

  it('a chain continues from an incomplete turn, with its text in the history', T, async () => {
    const first = await ai.interactions.create({ model: 'demo', input: 'Start a story.', generation_config: CUT });
    assert.equal(first.status, 'incomplete');
    const next = await ai.interactions.create({
      model: 'demo', input: 'Go on.', previous_interaction_id: first.id, generation_config: { temperature: 0, max_output_tokens: 2 },
    });
    const alone = await ai.interactions.create({ model: 'demo', input: 'Go on.', generation_config: { temperature: 0, max_output_tokens: 2 } });
    assert.ok(['completed', 'incomplete'].includes(next.status));
    assert.ok(next.usage.total_input_tokens > alone.usage.total_input_tokens + 5, 'the history carries the cut turn');
  });

  it('structured output: cut JSON is incomplete; a grammar that completes is completed', T, async () => {
    const schema = { type: 'array', minItems: 30, maxItems: 30, items: { type: 'integer', minimum: 0, maximum: 9 } };
    const cut = await ai.interactions.create({
      model: 'demo', input: 'Numbers.', response_format: schema, generation_config: { temperature: 0, max_output_tokens: 6 },
    });
    assert.equal(cut.status, 'incomplete');
    assert.throws(() => JSON.parse(cut.outputs.at(-1).text), 'cut JSON does not parse, and the status says why');
    const whole = await ai.interactions.create({
      model: 'demo', input: 'Numbers.', response_format: schema, generation_config: { temperature: 0, max_output_tokens: 400 },
    });
    assert.equal(whole.status, 'completed', 'the model ended on its own (the grammar completed)');
    assert.equal(JSON.parse(whole.outputs.at(-1).text).length, 30);
  });

  it('a function call cut mid-way is text, never a function_call, never requires_action', T, async () => {
    const cut = await ai.interactions.create({
      model: 'demo', input: 'Weather in Paris?', tools: [weatherTool],
      generation_config: { tool_choice: 'any', temperature: 0, max_output_tokens: 24 },
    });
    assert.equal(cut.status, 'incomplete');
    assert.ok(cut.outputs.every((o) => o.type !== 'function_call'), JSON.stringify(cut.outputs));
    const text = cut.outputs.filter((o) => o.type === 'text').map((o) => o.text).join('');
    assert.match(text, /^<tool_call>/, 'the raw call syntax is kept as text');
    // streamed: the same, and no function_call content block
    const events = await collect(await ai.interactions.create({
      model: 'demo', input: 'Weather in Paris?', tools: [weatherTool], stream: true,
      generation_config: { tool_choice: 'any', temperature: 0, max_output_tokens: 24 },
    }));
    assert.ok(events.every((e) => e.event_type !== 'content.start' || e.content?.type !== 'function_call'));
    assert.equal(events.at(-1).interaction.status, 'incomplete');
    // with room to finish: one whole call, requires_action
    const whole = await ai.interactions.create({
      model: 'demo', input: 'Weather in Paris?', tools: [weatherTool],
      generation_config: { tool_choice: 'any', seed: 11, max_output_tokens: 1500 },
    });
    assert.equal(whole.status, 'requires_action');
    const call = whole.outputs.find((o) => o.type === 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.equal(typeof call.arguments.location, 'string');
  });

  it('a thought cut mid-way stays a thought (summary and signature), never text', T, async () => {
    const cut = await ai.interactions.create({
      model: 'think', input: 'Why is the sky blue?', generation_config: { thinking_level: 'high', seed: 1, max_output_tokens: 24 },
    });
    assert.equal(cut.status, 'incomplete');
    assert.equal(cut.outputs[0].type, 'thought');
    assert.match(cut.outputs[0].signature, /^v1\.[A-Za-z0-9_-]+$/);
    assert.ok(cut.outputs[0].summary[0].text.length > 0);
    assert.ok(cut.usage.total_thought_tokens > 0);
    for (const o of cut.outputs.filter((x) => x.type === 'text')) assert.ok(!o.text.includes('</think>'), o.text);
    const got = await ai.interactions.get(cut.id);
    assert.equal(got.status, 'incomplete');
    assert.deepEqual(got.outputs, cut.outputs);
  });
});
