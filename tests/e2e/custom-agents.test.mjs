// Custom agents (issue 12) as SDK 3.3.0 (`genai3`) drives them:
// agents.create / list / get / delete on /v1/agents, per API key, kept in
// the store (a restart keeps them), and interactions.create({agent: id})
// running one: a model base answers as a model interaction with the
// agent's system instruction first and the request's after it, the agent's
// tools joined with the request's (a request tool of the same name wins);
// the record names the agent. The research base is agents.test.mjs's.
// Random weights: structure, statuses, counts, echoes; a forced call
// (tool_choice any) proves the agent's function reached the model.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAll, T } from './lib/server.mjs';
import { client3 } from './lib/steps.mjs';

let srv, ai, other;
const weather = {
  type: 'function', name: 'get_weather', description: 'Gets the weather for a city.',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

before(async () => {
  srv = await startServer({ apiKeys: ['key-a', 'key-b'] });
  ai = client3(srv, 'key-a');
  other = client3(srv, 'key-b');
}, { timeout: 90_000 });
after(stopAll);

const status = async (p) => p.then(() => 'resolved', (e) => e.status ?? e.statusCode ?? String(e));

describe('custom agents (SDK 3.3.0 agents.*)', () => {
  it('create, get, list with pagination, delete; echoes every field', T, async () => {
    const made = await ai.agents.create({
      id: 'weather-bot', base_agent: 'demo', description: 'answers weather questions',
      system_instruction: 'You report the weather.', tools: [weather, { type: 'url_context' }],
    });
    assert.equal(made.id, 'weather-bot');
    assert.equal(made.base_agent, 'demo');
    assert.equal(made.description, 'answers weather questions');
    assert.equal(made.system_instruction, 'You report the weather.');
    assert.deepEqual(made.tools.map((t) => t.type), ['function', 'url_context']);
    assert.equal(made.tools[0].name, 'get_weather');
    const got = await ai.agents.get('weather-bot');
    for (const k of ['id', 'base_agent', 'description', 'system_instruction', 'tools', 'create_time'])
      assert.deepEqual(got[k], made[k], k);
    // an id drawn by the server when none is given
    const drawn = await ai.agents.create({ base_agent: 'demo' });
    assert.match(drawn.id, /^agent-[0-9a-f]{12}$/);
    for (const id of ['list-a', 'list-b', 'list-c']) await ai.agents.create({ id, base_agent: 'demo' });
    const seen = [];
    let token, pages = 0;
    do {
      const page = await ai.agents.list({ page_size: 2, page_token: token });
      assert.ok(page.agents.length <= 2);
      seen.push(...page.agents.map((a) => a.id));
      token = page.next_page_token;
      pages++;
    } while (token && pages < 10);
    assert.deepEqual(seen, [drawn.id, 'list-a', 'list-b', 'list-c', 'weather-bot'].sort());
    assert.equal(pages, 3);
    // another key sees none of them, and cannot get or delete them
    assert.deepEqual((await other.agents.list({})).agents, []);
    assert.equal(await status(other.agents.get('weather-bot')), 404);
    assert.equal(await status(other.agents.delete('weather-bot')), 404);
    await ai.agents.delete('list-b');
    assert.equal(await status(ai.agents.get('list-b')), 404);
    assert.equal(await status(ai.agents.delete('list-b')), 404);
    // /v1beta serves the same agents
    const r = await srv.raw('GET', '/v1beta/agents/weather-bot', { headers: { 'x-goog-api-key': 'key-a' } });
    assert.equal(r.status, 200);
    assert.equal(r.json.id, 'weather-bot');
  });

  it('runs as interactions.create({agent: id}): instructions merged, its tools offered, the record names it', T, async () => {
    await ai.agents.create({ id: 'caller', base_agent: 'demo', system_instruction: 'Always call a tool.', tools: [weather] });
    const it = await ai.interactions.create({
      agent: 'caller', input: 'Weather in Lisbon?', system_instruction: 'Be brief.',
      generation_config: { tool_choice: 'any', seed: 1, max_output_tokens: 400 },
    });
    assert.equal(it.agent, 'caller');
    assert.equal(it.model, undefined);
    assert.equal(it.system_instruction, 'Always call a tool.\n\nBe brief.');
    assert.equal(it.status, 'requires_action');
    const call = it.steps.find((s) => s.type === 'function_call');
    assert.ok(call, JSON.stringify(it.steps.map((s) => s.type)));
    assert.equal(call.name, 'get_weather'); // the agent's tool reached the model
    assert.equal(typeof call.arguments.city, 'string');
    const again = await ai.interactions.get(it.id);
    assert.equal(again.agent, 'caller');
    const listed = await srv.raw('GET', '/v1beta/interactions?page_size=5', { headers: { 'x-goog-api-key': 'key-a' } });
    const row = listed.json.interactions.find((x) => x.id === it.id);
    assert.equal(row.agent, 'caller');
    assert.equal(row.model, undefined);
    // a request tool of the same name replaces the agent's: only its schema binds the call
    const own = { ...weather, parameters: { type: 'object', properties: { zip: { type: 'string' } }, required: ['zip'] } };
    const it2 = await ai.interactions.create({
      agent: 'caller', input: 'Weather?', tools: [own], generation_config: { tool_choice: 'any', seed: 1, max_output_tokens: 400 },
    });
    const call2 = it2.steps.find((s) => s.type === 'function_call');
    assert.equal(call2.name, 'get_weather');
    assert.equal(typeof call2.arguments.zip, 'string');
    assert.equal(call2.arguments.city, undefined);
    // a model follows the agent's turn in one chain
    const next = await ai.interactions.create({
      model: 'demo', previous_interaction_id: it.id, generation_config: { max_output_tokens: 4 },
      input: [{ type: 'function_result', call_id: call.id, name: call.name, result: 'sunny' }],
    });
    assert.equal(next.model, 'demo');
    assert.equal(next.previous_interaction_id, it.id);
  });

  it('errors: bad fields 400 naming them, unknown and other-key agents 404, deleted then run 404', T, async () => {
    const bad = [
      [{ base_agent: 'no-such-model' }, /^base_agent: 'no-such-model' is neither an agent/],
      [{ system_instruction: 'x' }, /^base_agent: required/],
      [{ id: 'Bad Id', base_agent: 'demo' }, /^id: 'Bad Id' is not an agent id/],
      [{ base_agent: 'demo', tools: [{ type: 'google_maps' }] }, /^tools\[0\]\.type: an agent's tools are/],
      [{ base_agent: 'demo', tools: [{ type: 'function' }] }, /^tools\[0\]\.name/],
      [{ base_agent: 'demo', base_environment: 'remote' }, /^base_environment: /],
    ];
    for (const [body, re] of bad) {
      const r = await srv.raw('POST', '/v1/agents', { body, headers: { 'x-goog-api-key': 'key-a' } });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.json.error.message, re);
    }
    await ai.agents.create({ id: 'dup', base_agent: 'demo' });
    assert.equal(await status(ai.agents.create({ id: 'dup', base_agent: 'demo' })), 409);
    const run = (c, agent) => c.interactions.create({ agent, input: 'hi', generation_config: { max_output_tokens: 2 } });
    for (const [c, agent] of [[ai, 'nobody'], [other, 'dup']]) {
      const r = await srv.raw('POST', '/v1/interactions', { body: { agent, input: 'hi' },
        headers: { 'x-goog-api-key': c === ai ? 'key-a' : 'key-b' } });
      assert.equal(r.status, 404);
      assert.match(r.json.error.message, new RegExp(`^agent: '${agent}' is neither an agent of this key`));
    }
    const ran = await run(ai, 'dup');
    assert.equal(ran.agent, 'dup');
    assert.ok(['completed', 'incomplete'].includes(ran.status), ran.status);
    await ai.agents.delete('dup');
    assert.equal(await status(run(ai, 'dup')), 404);
    // a model base takes no agent_config
    await ai.agents.create({ id: 'plain', base_agent: 'demo' });
    const r = await srv.raw('POST', '/v1/interactions', { headers: { 'x-goog-api-key': 'key-a' },
      body: { agent: 'plain', input: 'hi', agent_config: { type: 'deep-research' } } });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /^agent_config: agent 'plain' runs on the model 'demo'/);
  });

  it('agents and the interactions they ran survive a restart', { timeout: 90_000 }, async () => {
    await ai.agents.create({ id: 'keeper', base_agent: 'demo', system_instruction: 'Keep it.' });
    const it = await ai.interactions.create({ agent: 'keeper', input: 'hi', generation_config: { max_output_tokens: 2 } });
    const s2 = await srv.restart();
    srv = s2;
    ai = client3(s2, 'key-a');
    other = client3(s2, 'key-b');
    const got = await ai.agents.get('keeper');
    assert.equal(got.system_instruction, 'Keep it.');
    assert.equal(await status(other.agents.get('keeper')), 404);
    const again = await ai.interactions.get(it.id);
    assert.equal(again.agent, 'keeper');
    assert.equal(again.system_instruction, 'Keep it.');
    assert.equal((await ai.interactions.create({ agent: 'keeper', input: 'hi', generation_config: { max_output_tokens: 2 } })).agent, 'keeper');
  });
});
