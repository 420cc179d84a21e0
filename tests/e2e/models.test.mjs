// GET /v1beta/models and /v1beta/models/{name} through the SDK's
// models.list() / models.get(): each served model as Google's Model
// resource (name "models/NAME", displayName, token limits from the
// context, supportedGenerationMethods), local engines then --upstream
// engines, pageSize / pageToken paging to the end, a 404 in Google's
// classic error shape for an unknown model, a bad pageToken a 400, and the
// key required as on every other route.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopAll, T, DEMO_MODEL } from './lib/server.mjs';

const KEY = 'models-key-0123456789';
const SPEECH = ['gemini-2.5-flash-preview-tts', 'gemini-2.5-pro-preview-tts', 'gemini-3.1-flash-tts-preview', 'espeak']
  .map((n) => `models/${n}`);
let srv;
let ai;

before(async () => {
  srv = await startServer({
    apiKeys: [KEY],
    models: { demo: DEMO_MODEL, second: DEMO_MODEL },
    args: ['--ctx-size', '512', '--upstream', 'painter=http://127.0.0.1:9/v1,key=sk-test,model=sdxl',
      '--upstream', 'remote=http://127.0.0.1:9/v1,api=chat,key=sk-chat,model=llama'],
  });
  ai = srv.client(KEY);
}, { timeout: 90_000 });
after(stopAll);

describe('models.list and models.get', () => {
  it('lists the local models then the upstream engines, with their limits', T, async () => {
    const pager = await ai.models.list();
    const all = [];
    for await (const m of pager) all.push(m);
    assert.deepEqual(all.map((m) => m.name), ['models/demo', 'models/second', 'models/remote', 'models/painter', ...SPEECH]);
    // the guide's TTS models, spoken by the embedded engine
    assert.match(all.at(-1).description, /speech output by the embedded espeak-ng engine/);
    const d = all[0];
    assert.equal(d.displayName, 'demo');
    assert.equal(d.inputTokenLimit, 512);
    assert.equal(d.outputTokenLimit, 512);
    assert.deepEqual(d.supportedActions, ['createInteraction']);
    assert.match(d.description, /llama\.cpp; input: text/);
    // a chat upstream is served as an engine: listed once, as a chat model
    assert.match(all[2].description, /chat model of an upstream engine \(api=chat, its model llama\); input: text/);
    const p = all[3];
    assert.equal(p.inputTokenLimit, undefined);
    assert.match(p.description, /image output from an upstream engine \(api=openai, its model sdxl\)/);
    assert.doesNotMatch(JSON.stringify(all), /sk-test|sk-chat/);
  });

  it('pages with pageSize and pageToken to the last page, which has no token', T, async () => {
    const r1 = await srv.raw('GET', '/v1beta/models?pageSize=2', { headers: { 'x-goog-api-key': KEY } });
    assert.equal(r1.status, 200, r1.text);
    assert.equal(r1.json.models.length, 2);
    assert.equal(typeof r1.json.nextPageToken, 'string');
    const r2 = await srv.raw('GET', `/v1beta/models?pageSize=2&pageToken=${r1.json.nextPageToken}`, { headers: { 'x-goog-api-key': KEY } });
    assert.deepEqual(r2.json.models.map((m) => m.name), ['models/remote', 'models/painter']);
    assert.equal(typeof r2.json.nextPageToken, 'string'); // the speech models follow
    const r3 = await srv.raw('GET', `/v1beta/models?pageSize=100&pageToken=${r2.json.nextPageToken}`, { headers: { 'x-goog-api-key': KEY } });
    assert.deepEqual(r3.json.models.map((m) => m.name), SPEECH);
    assert.equal(r3.json.nextPageToken, undefined);
    const pager = await ai.models.list({ config: { pageSize: 1 } });
    const names = [];
    for await (const m of pager) names.push(m.name);
    assert.equal(names.length, 4 + SPEECH.length);
    const bad = await srv.raw('GET', '/v1beta/models?pageToken=xyz', { headers: { 'x-goog-api-key': KEY } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /pageToken/);
    const zero = await srv.raw('GET', '/v1beta/models?pageSize=0', { headers: { 'x-goog-api-key': KEY } });
    assert.equal(zero.status, 400);
  });

  it('gets one model by name; an unknown one is a 404 in the classic shape', T, async () => {
    const m = await ai.models.get({ model: 'second' });
    assert.equal(m.name, 'models/second');
    assert.equal(m.inputTokenLimit, 512);
    const v1 = await srv.raw('GET', '/v1/models/painter', { headers: { 'x-goog-api-key': KEY } });
    assert.equal(v1.status, 200);
    assert.equal(v1.json.name, 'models/painter');
    await assert.rejects(ai.models.get({ model: 'gemini-2.5-flash' }), (e) => {
      assert.match(String(e.message), /404|not found/i);
      return true;
    });
    const r = await srv.raw('GET', '/v1beta/models/gemini-2.5-flash', { headers: { 'x-goog-api-key': KEY } });
    assert.equal(r.status, 404);
    assert.equal(r.json.error.code, 404);
    assert.equal(r.json.error.status, 'NOT_FOUND');
    assert.match(r.json.error.message, /models\/gemini-2\.5-flash is not found: this server serves demo, second/);
  });

  it('needs the key, and answers only GET', T, async () => {
    const r = await srv.raw('GET', '/v1beta/models');
    assert.equal(r.status, 401);
    const p = await srv.raw('POST', '/v1beta/models', { headers: { 'x-goog-api-key': KEY }, body: {} });
    assert.equal(p.status, 405);
  });
});
