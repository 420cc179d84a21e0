// Conversation state in the steps dialect (SDK 3.x), and across dialects.
// Chains by previous_interaction_id, stateless history given as steps
// (user_input / model_output, the model's steps replayed as they came back),
// get / include_input / delete, the store=false rules — the 1.52.0 suite's
// state and store scenarios in 3.x's idiom. Then one store, two clients: a
// chain begun by SDK 1.52.0 continues with SDK 3.3.0 and the other way
// round, and a GET answers in the caller's dialect whichever client made the
// interaction. Greedy decoding makes each equivalence exact: the same prompt
// (same input tokens) gives the same text.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAll, T, ID_RE, DEMO_MODEL, textOf, collect, assertEnded } from './lib/server.mjs';
import { client3, stepsText, outputSteps, stepDeltaText } from './lib/steps.mjs';

let srv;
let ai;   // SDK 3.3.0: steps dialect on /v1
let ai1;  // SDK 1.52.0: legacy dialect on /v1beta
const CFG = { temperature: 0, max_output_tokens: 8 };

before(async () => {
  srv = await startServer({ models: { demo: DEMO_MODEL, demo2: DEMO_MODEL } });
  ai = client3(srv);
  ai1 = srv.client();
}, { timeout: 90_000 });
after(stopAll);

const create = (params) => ai.interactions.create({ model: 'demo', generation_config: CFG, ...params });
const create1 = (params) => ai1.interactions.create({ model: 'demo', generation_config: CFG, ...params });

function sameRun(a, b, what, textA = (x) => x.output_text ?? textOf(x), textB = textA) {
  assert.equal(a.usage.total_input_tokens, b.usage.total_input_tokens, `${what}: same prompt length`);
  assert.equal(textA(a), textB(b), `${what}: same greedy text`);
}

const notFound = (e) => { assert.equal(e.status, 404, `${e.constructor.name} ${e.status}: ${e.message}`); return true; };

describe('steps dialect: chains', () => {
  it("docs: 'Hi, my name is Phil.' then 'What is my name?' equals the history given as steps", T, async () => {
    const i1 = await create({ input: 'Hi, my name is Phil.' });
    const i2 = await create({ input: 'What is my name?', previous_interaction_id: i1.id });
    assertEnded(assert, i2);
    assert.equal(i2.previous_interaction_id, i1.id);
    const alone = await create({ input: 'What is my name?' });
    assert.ok(i2.usage.total_input_tokens > alone.usage.total_input_tokens, 'the chained prompt carries turn one');
    // The model's steps are replayed as they came back from create.
    const stateless = await create({
      input: [
        { type: 'user_input', content: [{ type: 'text', text: 'Hi, my name is Phil.' }] },
        ...i1.steps,
        { type: 'user_input', content: [{ type: 'text', text: 'What is my name?' }] },
      ],
    });
    sameRun(i2, stateless, 'chained vs. history as steps');
    assert.equal(stateless.previous_interaction_id, undefined);
  });

  it('a chain of three equals the five-step history; a GET of turn one replays as history too', T, async () => {
    const i1 = await create({ input: 'Turn one: apples.' });
    const i2 = await create({ input: 'Turn two: pears.', previous_interaction_id: i1.id });
    const i3 = await create({ input: 'Turn three: plums.', previous_interaction_id: i2.id });
    assert.ok(i3.usage.total_input_tokens > i2.usage.total_input_tokens);
    // GET's steps (user_input first) are directly a valid history.
    const g1 = await ai.interactions.get(i1.id);
    const g2 = await ai.interactions.get(i2.id);
    const stateless = await create({
      input: [...g1.steps, ...g2.steps, { type: 'user_input', content: [{ type: 'text', text: 'Turn three: plums.' }] }],
    });
    sameRun(i3, stateless, 'three-turn chain');
  });

  it('a step content may be a string; history as steps equals history as legacy turns', T, async () => {
    const text = 'The three largest cities in Spain are Madrid, Barcelona, and Valencia.';
    const steps = await create({
      input: [
        { type: 'user_input', content: 'What are the three largest cities in Spain?' },
        { type: 'model_output', content: [{ type: 'text', text }] },
        { type: 'user_input', content: [{ type: 'text', text: 'And the second one?' }] },
      ],
    });
    const turns = await create1({
      input: [
        { role: 'user', content: 'What are the three largest cities in Spain?' },
        { role: 'model', content: text },
        { role: 'user', content: 'And the second one?' },
      ],
    });
    sameRun(steps, turns, 'steps vs. turns', (x) => x.output_text, (x) => textOf(x));
  });

  it('a chain may switch models; only history is inherited (system_instruction is not)', T, async () => {
    const sys = 'Answer in French.';
    const i1 = await create({ input: 'Hello from the first model.', system_instruction: sys });
    const i2 = await ai.interactions.create({ model: 'demo2', input: 'And now the second.', previous_interaction_id: i1.id,
      generation_config: CFG });
    assert.equal(i2.model, 'demo2');
    assert.equal(i2.system_instruction, undefined);
    const stateless = await ai.interactions.create({ model: 'demo2', generation_config: CFG, input: [
      { type: 'user_input', content: 'Hello from the first model.' }, ...i1.steps,
      { type: 'user_input', content: 'And now the second.' }] });
    sameRun(i2, stateless, 'switched chain');
  });
});

describe('steps dialect: get, include_input, delete', () => {
  it('get returns the stored turn; include_input adds the input as steps (and only then)', T, async () => {
    const c = await create({ input: [{ type: 'text', text: 'part one' }, { type: 'text', text: 'part two' }],
      system_instruction: 'Be brief.' });
    const g = await ai.interactions.get(c.id);
    assert.equal(g.input, undefined);
    assert.equal(g.system_instruction, 'Be brief.');
    assert.deepEqual(g.steps[0], { type: 'user_input', content: [{ type: 'text', text: 'part one' }, { type: 'text', text: 'part two' }] });
    assert.deepEqual(outputSteps(g), c.steps);
    const gi = await ai.interactions.get(c.id, { include_input: true });
    assert.deepEqual(gi.input, [g.steps[0]]);
    // 3.x always sends stream=false on a plain get; on the wire:
    const r = await srv.raw('GET', `/v1/interactions/${c.id}?stream=false&include_input=false`, { key: 'k' });
    assert.equal(r.status, 200);
    assert.equal(r.json.input, undefined);
  });

  it('delete resolves (void); then get and a second delete are 404, and the turn cannot be continued', T, async () => {
    const i1 = await create({ input: 'first' });
    const i2 = await create({ input: 'second', previous_interaction_id: i1.id });
    assert.equal(await ai.interactions.delete(i2.id), undefined);
    await assert.rejects(ai.interactions.get(i2.id), notFound);
    await assert.rejects(ai.interactions.delete(i2.id), notFound);
    await assert.rejects(create({ input: 'third', previous_interaction_id: i2.id }), notFound);
    assertEnded(assert, await ai.interactions.get(i1.id));
  });
});

describe('steps dialect: store', () => {
  it('store:false answers normally, gives the stored text, and leaves nothing to get or continue', T, async () => {
    const a = await create({ input: 'do not keep this', store: false });
    const b = await create({ input: 'do not keep this' });
    assertEnded(assert, a);
    assert.match(a.id, ID_RE);
    assert.equal(a.output_text, b.output_text);
    await assert.rejects(ai.interactions.get(a.id), notFound);
    await assert.rejects(create({ input: 'continue it', previous_interaction_id: a.id }), notFound);
    const c = await create({ input: 'unstored follow-up', store: false, previous_interaction_id: b.id });
    assert.equal(c.previous_interaction_id, b.id);
    await assert.rejects(ai.interactions.get(c.id), notFound);
  });

  it('store:false with background:true is a 400; store:false with stream:true streams then keeps nothing', T, async () => {
    await assert.rejects(create({ input: 'x', store: false, background: true }), (e) => {
      assert.equal(e.status, 400);
      assert.match(e.message, /store=false is incompatible with background=true/);
      return true;
    });
    const events = await collect(await create({ input: 'stream but do not keep', store: false, stream: true }));
    const created = events.find((e) => e.event_type === 'interaction.created');
    assert.ok(created && stepDeltaText(events).length > 0);
    assert.equal(events[events.length - 1].event_type, 'interaction.completed');
    await assert.rejects(ai.interactions.get(created.interaction.id), notFound);
  });
});

describe('one store, two dialects', () => {
  it('SDK 1.x create -> SDK 3.x continue -> SDK 1.x get (and the chain equals one dialect alone)', T, async () => {
    const l1 = await create1({ input: 'Hi, my name is Phil.' });
    assert.equal(l1.role, 'model');
    const s2 = await create({ input: 'What is my name?', previous_interaction_id: l1.id });
    assertEnded(assert, s2);
    assert.equal(s2.previous_interaction_id, l1.id);
    const g = await ai1.interactions.get(s2.id);
    assert.equal(g.role, 'model');
    assert.ok(Array.isArray(g.outputs) && g.steps === undefined, 'GET answers in the caller\'s (legacy) dialect');
    assert.equal(textOf(g), s2.output_text);
    assert.equal(g.previous_interaction_id, l1.id);
    // The same chain made by SDK 1.x alone.
    const l2 = await create1({ input: 'What is my name?', previous_interaction_id: l1.id });
    sameRun(s2, l2, 'mixed vs. legacy-only chain', (x) => x.output_text, (x) => textOf(x));
    // And SDK 3.x reads the legacy-made turn with its steps.
    const g1 = await ai.interactions.get(l1.id);
    assert.deepEqual(g1.steps.map((s) => s.type), ['user_input', 'model_output']);
    assert.equal(stepsText(g1), textOf(l1));
  });

  it('SDK 3.x create -> SDK 1.x continue -> SDK 3.x get, streamed and stateless alike', T, async () => {
    const s1 = await create({ input: 'Remember the number 42.' });
    const l2 = await create1({ input: 'Which number?', previous_interaction_id: s1.id });
    assertEnded(assert, l2);
    assert.equal(l2.previous_interaction_id, s1.id);
    const g = await ai.interactions.get(l2.id);
    assert.equal(g.role, undefined);
    assert.equal(g.service_tier, 'standard');
    assert.deepEqual(g.steps[0], { type: 'user_input', content: [{ type: 'text', text: 'Which number?' }] });
    assert.equal(stepsText(g), textOf(l2));
    // A 3.x stream continuing the legacy-made turn, then the stateless form.
    const events = await collect(await create({ input: 'Say it again.', previous_interaction_id: l2.id, stream: true }));
    const s3 = await ai.interactions.get(events[0].interaction.id);
    assert.equal(stepDeltaText(events), stepsText(s3));
    const stateless = await create1({ input: [
      { role: 'user', content: 'Remember the number 42.' }, { role: 'model', content: s1.steps[0].content },
      { role: 'user', content: 'Which number?' }, { role: 'model', content: l2.outputs },
      { role: 'user', content: 'Say it again.' }] });
    sameRun(s3, stateless, 'three turns across dialects', (x) => stepsText(x), (x) => textOf(x));
  });

  it('the same id reads in both dialects on the wire: /v1beta legacy, /v1 and Api-Revision steps', T, async () => {
    const c = await create1({ input: 'One record, two views.' });
    const legacy = await srv.raw('GET', `/v1beta/interactions/${c.id}`, { key: 'k' });
    const steps = await srv.raw('GET', `/v1/interactions/${c.id}`, { key: 'k' });
    const rev = await srv.raw('GET', `/v1beta/interactions/${c.id}`, { key: 'k', headers: { 'Api-Revision': '2026-05-20' } });
    assert.deepEqual(legacy.json.outputs, c.outputs);
    assert.equal(legacy.json.role, 'model');
    assert.deepEqual(steps.json, rev.json);
    assert.deepEqual(steps.json.steps, [
      { type: 'user_input', content: [{ type: 'text', text: 'One record, two views.' }] },
      { type: 'model_output', content: c.outputs },
    ]);
    for (const k of ['id', 'status', 'created', 'updated', 'model', 'usage']) assert.deepEqual(steps.json[k], legacy.json[k], k);
  });
});
