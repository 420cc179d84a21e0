// Conversation state: previous_interaction_id chains (the guide's stateful
// example, a chain of three, a chain that switches models), get and
// include_input, and stateless history with role "model" turns carrying
// earlier outputs. The demo model is served twice (demo and demo2, the same
// weights) so a chain can switch models. Greedy decoding makes the
// equivalence exact: a chained call must produce the same prompt (same input
// tokens) and the same text as the stateless call with the whole history.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAll, T, DEMO_MODEL, textOf, checkUsage, sdkErrors, assertEnded } from './lib/server.mjs';

let srv;
let ai;
const CFG = { temperature: 0, max_output_tokens: 8 };

before(async () => {
  srv = await startServer({ models: { demo: DEMO_MODEL, demo2: DEMO_MODEL } });
  ai = srv.client();
}, { timeout: 90_000 });
after(stopAll);

function create(params) {
  return ai.interactions.create({ model: 'demo', generation_config: CFG, ...params });
}

function sameRun(a, b, what) {
  assert.equal(a.usage.total_input_tokens, b.usage.total_input_tokens, `${what}: same prompt length`);
  assert.equal(textOf(a), textOf(b), `${what}: same greedy text`);
}

describe('stateful conversation (previous_interaction_id)', () => {
  it("guide: 'Hi, my name is Phil.' then 'What is my name?' rebuilds the history", T, async () => {
    const interaction1 = await create({ input: 'Hi, my name is Phil.' });
    assertEnded(assert, interaction1);
    assert.ok(interaction1.outputs[interaction1.outputs.length - 1].text.length > 0);
    const interaction2 = await create({ input: 'What is my name?', previous_interaction_id: interaction1.id });
    assertEnded(assert, interaction2);
    assert.equal(interaction2.previous_interaction_id, interaction1.id);
    assert.notEqual(interaction2.id, interaction1.id);
    checkUsage(assert, interaction2.usage, { maxOutput: 8 });

    const alone = await create({ input: 'What is my name?' });
    assert.ok(interaction2.usage.total_input_tokens > alone.usage.total_input_tokens + interaction1.usage.total_input_tokens / 2,
      'the chained prompt carries the first turn');

    const stateless = await create({
      input: [
        { role: 'user', content: 'Hi, my name is Phil.' },
        { role: 'model', content: interaction1.outputs },
        { role: 'user', content: 'What is my name?' },
      ],
    });
    sameRun(interaction2, stateless, 'chained vs. full history');
  });

  it('a chain of three turns equals the stateless five-turn history', T, async () => {
    const i1 = await create({ input: 'Turn one: apples.' });
    const i2 = await create({ input: 'Turn two: pears.', previous_interaction_id: i1.id });
    const i3 = await create({ input: 'Turn three: plums.', previous_interaction_id: i2.id });
    assertEnded(assert, i3);
    assert.equal(i3.previous_interaction_id, i2.id);
    assert.ok(i3.usage.total_input_tokens > i2.usage.total_input_tokens);
    assert.ok(i2.usage.total_input_tokens > i1.usage.total_input_tokens);
    const stateless = await create({
      input: [
        { role: 'user', content: 'Turn one: apples.' },
        { role: 'model', content: i1.outputs },
        { role: 'user', content: 'Turn two: pears.' },
        { role: 'model', content: i2.outputs },
        { role: 'user', content: 'Turn three: plums.' },
      ],
    });
    sameRun(i3, stateless, 'three-turn chain');
  });

  it('a turn can be continued as soon as its create (or its stream) has answered', T, async () => {
    // Repeated, because a race between answering and persisting shows only sometimes.
    const failures = [];
    for (let k = 0; k < 30; k++) {
      const i1 = await create({ input: `quick turn ${k}` });
      assertEnded(assert, i1);
      try {
        await create({ input: 'right away', previous_interaction_id: i1.id });
      } catch (e) { failures.push(`sync #${k}: ${e.status} ${e.message}`); }
      const events = [];
      for await (const ev of await create({ input: `quick stream ${k}`, stream: true })) events.push(ev);
      assert.equal(events[events.length - 1].event_type, 'interaction.complete');
      try {
        await create({ input: 'right away', previous_interaction_id: events[0].interaction.id });
      } catch (e) { failures.push(`stream #${k}: ${e.status} ${e.message}`); }
    }
    assert.deepEqual(failures, [], `${failures.length} of 60 continuations refused:\n${failures.slice(0, 3).join('\n')}`);
  });

  it('branching: two continuations of the same turn are independent', T, async () => {
    const root = await create({ input: 'The root turn.' });
    const a = await create({ input: 'Branch A.', previous_interaction_id: root.id });
    const b = await create({ input: 'Branch B, which is longer than branch A.', previous_interaction_id: root.id });
    const a2 = await create({ input: 'Branch A.', previous_interaction_id: root.id });
    sameRun(a, a2, 'same branch twice');
    assert.ok(b.usage.total_input_tokens > a.usage.total_input_tokens);
  });

  it('a chain may switch models (demo then demo2)', T, async () => {
    const i1 = await create({ input: 'Hello from the first model.' });
    assert.equal(i1.model, 'demo');
    const i2 = await ai.interactions.create({
      model: 'demo2', input: 'And now the second.', previous_interaction_id: i1.id, generation_config: CFG,
    });
    assertEnded(assert, i2);
    assert.equal(i2.model, 'demo2');
    assert.equal(i2.previous_interaction_id, i1.id);
    const stateless = await ai.interactions.create({
      model: 'demo2', generation_config: CFG,
      input: [
        { role: 'user', content: 'Hello from the first model.' },
        { role: 'model', content: i1.outputs },
        { role: 'user', content: 'And now the second.' },
      ],
    });
    sameRun(i2, stateless, 'switched chain');
    const g = await ai.interactions.get(i2.id);
    assert.equal(g.model, 'demo2');
  });

  it('only history is inherited: system_instruction applies to its own call', T, async () => {
    const sys = 'You are a terse assistant who always answers in French.';
    const i1 = await create({ input: 'First question.', system_instruction: sys });
    assert.equal(i1.system_instruction, sys);
    const i2 = await create({ input: 'Second question.', previous_interaction_id: i1.id });
    assert.equal(i2.system_instruction, undefined, 'not echoed: not inherited');
    const noSys = await create({
      input: [
        { role: 'user', content: 'First question.' },
        { role: 'model', content: i1.outputs },
        { role: 'user', content: 'Second question.' },
      ],
    });
    sameRun(i2, noSys, 'chained without system_instruction');
    const i2s = await create({ input: 'Second question.', previous_interaction_id: i1.id, system_instruction: sys });
    assert.equal(i2s.system_instruction, sys);
    assert.ok(i2s.usage.total_input_tokens > i2.usage.total_input_tokens, 'restated system_instruction is used');
  });

  it('only history is inherited: generation_config applies to its own call', T, async () => {
    const i1 = await create({ input: 'Short answer please.', generation_config: { temperature: 0, max_output_tokens: 2 } });
    assert.ok(i1.usage.total_output_tokens <= 2);
    const i2 = await create({ input: 'Now a longer one.', previous_interaction_id: i1.id,
      generation_config: { temperature: 0, max_output_tokens: 12 } });
    assert.ok(i2.usage.total_output_tokens > 2, `the new max_output_tokens applies (${i2.usage.total_output_tokens})`);
  });
});

describe('get and include_input', () => {
  it('guide: interactions.get(id) returns the stored turn', T, async () => {
    const c = await create({ input: 'Keep this around.' });
    const previous_interaction = await ai.interactions.get(c.id);
    assert.equal(previous_interaction.id, c.id);
    assertEnded(assert, previous_interaction);
    assert.deepEqual(previous_interaction.outputs, c.outputs);
    assert.deepEqual(previous_interaction.usage, c.usage);
    assert.equal(previous_interaction.object, 'interaction');
  });

  it('guide: include_input adds the normalized input (and only then)', T, async () => {
    const i1 = await create({ input: 'Hi, my name is Phil.' });
    const i2 = await create({ input: 'What is my name?', previous_interaction_id: i1.id });
    const interaction = await ai.interactions.get(i2.id, { include_input: true });
    assert.ok(interaction.input !== undefined && interaction.input !== null, 'input present');
    assert.match(JSON.stringify(interaction.input), /What is my name\?/);
    assert.deepEqual(interaction.outputs, i2.outputs);
    const without = await ai.interactions.get(i2.id);
    assert.equal(without.input, undefined);
    const falsy = await srv.raw('GET', `/v1beta/interactions/${i2.id}?include_input=false`, { key: 'k' });
    assert.equal(falsy.status, 200);
    assert.equal(falsy.json.input, undefined);
  });

  it('include_input keeps content lists and system_instruction as sent', T, async () => {
    const c = await create({
      input: [{ type: 'text', text: 'part one' }, { type: 'text', text: 'part two' }],
      system_instruction: 'Be brief.',
    });
    const g = await ai.interactions.get(c.id, { include_input: true });
    const s = JSON.stringify(g.input);
    assert.match(s, /part one/);
    assert.match(s, /part two/);
    assert.ok(s.indexOf('part one') < s.indexOf('part two'), 'order kept');
    assert.equal(g.system_instruction, 'Be brief.');
  });
});

describe('stateless conversation', () => {
  it("guide: history with the model's outputs as a role 'model' turn", T, async () => {
    const conversationHistory = [{ role: 'user', content: 'What are the three largest cities in Spain?' }];
    const interaction1 = await create({ input: conversationHistory });
    assertEnded(assert, interaction1);
    conversationHistory.push({ role: 'model', content: interaction1.outputs });
    conversationHistory.push({ role: 'user', content: 'What is the most famous landmark in the second one?' });
    const interaction2 = await create({ input: conversationHistory });
    assertEnded(assert, interaction2);
    assert.ok(interaction2.outputs[interaction2.outputs.length - 1].text.length > 0);
    assert.ok(interaction2.usage.total_input_tokens > interaction1.usage.total_input_tokens);
    assert.equal(interaction2.previous_interaction_id ?? undefined, undefined);
  });

  it('guide (REST): a model turn whose content is a string equals the same text as a content list', T, async () => {
    const text = 'The three largest cities in Spain are Madrid, Barcelona, and Valencia.';
    const asString = await create({
      input: [
        { role: 'user', content: 'What are the three largest cities in Spain?' },
        { role: 'model', content: text },
        { role: 'user', content: 'What is the most famous landmark in the second one?' },
      ],
    });
    const asList = await create({
      input: [
        { role: 'user', content: 'What are the three largest cities in Spain?' },
        { role: 'model', content: [{ type: 'text', text }] },
        { role: 'user', content: 'What is the most famous landmark in the second one?' },
      ],
    });
    assertEnded(assert, asString);
    sameRun(asString, asList, 'string vs list model turn');
  });

  it("guide (tool context circulation): built-in tools' calls and results in a model turn are accepted and kept as sent", T, async () => {
    const input = [
      { role: 'user', content: [{ type: 'text', text: 'What is 2**10? Search for Madrid too.' }] },
      { role: 'model', content: [
        { type: 'code_execution_call', id: 'c1', arguments: { code: 'print(2**10)', language: 'python' } },
        { type: 'code_execution_result', call_id: 'c1', result: '1024\n' },
        { type: 'google_search_call', id: 'g1', arguments: { queries: ['Madrid'] }, search_type: 'web_search' },
        { type: 'google_search_result', call_id: 'g1', result: [{ search_suggestions: '<div>Madrid</div>' }] },
        { type: 'mcp_server_tool_call', id: 's1', name: 'now', server_name: 'clock', arguments: { tz: 'UTC' } },
        { type: 'mcp_server_tool_result', call_id: 's1', name: 'now', server_name: 'clock', result: { time: '12:00' } },
        { type: 'text', text: '1024; Madrid is the capital of Spain.' },
      ] },
      { role: 'user', content: [{ type: 'text', text: 'Thanks.' }] },
    ];
    const it_ = await create({ input });
    assertEnded(assert, it_);
    const got = await ai.interactions.get(it_.id, { include_input: true });
    // as sent, and google_search_result's rendered_content derived from its search_suggestions (as the guide shows it)
    const echoed = structuredClone(input);
    echoed[1].content[3].rendered_content = '<div>Madrid</div>';
    assert.deepEqual(got.input, echoed);
    const { BadRequestError } = sdkErrors(ai);
    const bad = structuredClone(input);
    bad[1].content[0].arguments = 'print(1)';
    await assert.rejects(create({ input: bad }), (e) => {
      assert.ok(e instanceof BadRequestError, `${e.status} ${e.message}`);
      assert.match(e.message, /input\[1\]\.content\[0\]\.arguments: expected an object/);
      return true;
    });
  });

  it('an unknown role in a turn is refused with a 400', T, async () => {
    const { BadRequestError } = sdkErrors(ai);
    await assert.rejects(create({ input: [{ role: 'wizard', content: 'hi' }] }), (e) => {
      assert.ok(e instanceof BadRequestError, `${e.status} ${e.message}`);
      return true;
    });
  });
});
