// models.embedContent through the official SDKs (1.52.0 and 3.3.0 both
// post /v1beta/models/{model}:batchEmbedContents) against a server with
// --embedding-model build/embed.gguf (tools/mkdemo.c: random weights, 64
// dimensions, mean pooling, 512 tokens). The vectors carry no meaning;
// what is checked: one vector per text of the model's dimension and unit
// norm, the same vector for the same text, another for another text,
// outputDimensionality as Google's (the first N values, renormalised),
// the Google names served as aliases, statistics.truncated for a text past
// the context, models.list showing the model with embedContent, the
// single :embedContent over curl, and the errors: a model that is not an
// embedding model (404 naming the flag), an empty text, a dimension past
// the model's, a request naming another model (400 naming the field).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { GoogleGenAI as GenAI3 } from 'genai3';
import { startServer, stopAll, T, DEMO_MODEL, REPO_ROOT, BIN } from './lib/server.mjs';

const EMBED_MODEL = path.join(REPO_ROOT, 'build/embed.gguf');
const DIM = 64;
let srv;
let ai;

const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const maxDiff = (a, b) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

before(async () => {
  srv = await startServer({ models: { demo: DEMO_MODEL }, args: ['--embedding-model', `mini=${EMBED_MODEL}`] });
  ai = srv.client();
}, { timeout: 90_000 });
after(stopAll);

async function status(p) {
  try {
    await p;
  } catch (e) {
    return { status: e.status, message: e.message };
  }
  assert.fail('expected an error');
}

describe('models.embedContent', () => {
  it('embeds one text: the model dimension, unit norm, the same vector twice', T, async () => {
    const r1 = await ai.models.embedContent({ model: 'mini', contents: 'the cat saw a dog' });
    assert.equal(r1.embeddings.length, 1);
    const v = r1.embeddings[0].values;
    assert.equal(v.length, DIM);
    assert.ok(Math.abs(norm(v) - 1) < 1e-5, `norm ${norm(v)}`);
    assert.deepEqual(r1.embeddings[0].statistics, { truncated: false, tokenCount: r1.embeddings[0].statistics.tokenCount });
    assert.ok(r1.embeddings[0].statistics.tokenCount > 2);
    const r2 = await ai.models.embedContent({ model: 'mini', contents: 'the cat saw a dog' });
    assert.deepEqual(r2.embeddings[0].values, v);
    const r3 = await ai.models.embedContent({ model: 'mini', contents: 'three happy trees' });
    assert.ok(maxDiff(r3.embeddings[0].values, v) > 1e-3);
  });

  it('embeds a batch: one vector per text, each as it is alone', T, async () => {
    const texts = ['hello world', 'once upon a time', 'the little house', 'good day'];
    const r = await ai.models.embedContent({ model: 'models/mini', contents: texts });
    assert.equal(r.embeddings.length, texts.length);
    for (let i = 0; i < texts.length; i++) {
      const one = await ai.models.embedContent({ model: 'mini', contents: texts[i] });
      assert.ok(maxDiff(r.embeddings[i].values, one.embeddings[0].values) < 1e-4, `text ${i}`);
    }
    assert.ok(maxDiff(r.embeddings[0].values, r.embeddings[1].values) > 1e-3);
  });

  it('cuts to outputDimensionality and renormalises, as Google does', T, async () => {
    const full = (await ai.models.embedContent({ model: 'mini', contents: 'hello world' })).embeddings[0].values;
    const r = await ai.models.embedContent({ model: 'mini', contents: 'hello world', config: { outputDimensionality: 8 } });
    const v = r.embeddings[0].values;
    assert.equal(v.length, 8);
    assert.ok(Math.abs(norm(v) - 1) < 1e-5);
    const k = norm(full.slice(0, 8));
    for (let i = 0; i < 8; i++) assert.ok(Math.abs(v[i] - full[i] / k) < 1e-5);
  });

  it('serves the Google names, and through SDK 3.3.0 the same', T, async () => {
    const a = (await ai.models.embedContent({ model: 'gemini-embedding-001', contents: 'hello' })).embeddings[0].values;
    const b = (await ai.models.embedContent({ model: 'text-embedding-004', contents: 'hello', config: { taskType: 'RETRIEVAL_QUERY' } })).embeddings[0].values;
    const ai3 = new GenAI3({ apiKey: 'e2e-key', httpOptions: { baseUrl: srv.url } });
    const c = (await ai3.models.embedContent({ model: 'mini', contents: ['hello'] })).embeddings[0].values;
    assert.deepEqual(a, b);
    assert.deepEqual(a, c);
  });

  it('says when a text was cut to the context', T, async () => {
    const long = 'the cat and the dog '.repeat(300);
    const r = await ai.models.embedContent({ model: 'mini', contents: [long, 'short'] });
    assert.equal(r.embeddings[0].statistics.truncated, true);
    assert.ok(r.embeddings[0].statistics.tokenCount > 512);
    assert.equal(r.embeddings[1].statistics.truncated, false);
  });

  it('lists the embedding model and its Google names with embedContent', T, async () => {
    const all = [];
    for await (const m of await ai.models.list()) all.push(m);
    const names = all.map((m) => m.name);
    for (const n of ['models/mini', 'models/gemini-embedding-001', 'models/text-embedding-004']) assert.ok(names.includes(n), n);
    const m = all.find((x) => x.name === 'models/mini');
    assert.deepEqual(m.supportedActions, ['embedContent', 'batchEmbedContents']);
    assert.equal(m.inputTokenLimit, 512);
    assert.match(m.description, /mean pooling, 64 dimensions/);
    assert.deepEqual(all.find((x) => x.name === 'models/demo').supportedActions, ['createInteraction']);
  });

  it('answers the single :embedContent that curl users post', T, async () => {
    const r = await srv.raw('POST', '/v1beta/models/mini:embedContent', {
      body: { content: { parts: [{ text: 'a title' }, { text: 'hello' }] }, taskType: 'RETRIEVAL_DOCUMENT', title: 'T' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.embedding.values.length, DIM);
    // the title and both parts are embedded: not the vector of one part
    const one = (await ai.models.embedContent({ model: 'mini', contents: 'hello' })).embeddings[0].values;
    assert.ok(maxDiff(r.json.embedding.values, one) > 1e-3);
  });
});

describe('models.embedContent errors', () => {
  it('a model that is not an embedding model: 404 naming it and the flag', T, async () => {
    const e = await status(ai.models.embedContent({ model: 'demo', contents: 'x' }));
    assert.equal(e.status, 404);
    assert.match(e.message, /models\/demo is not an embedding model.*--embedding-model/);
    const e2 = await status(ai.models.embedContent({ model: 'nope', contents: 'x' }));
    assert.equal(e2.status, 404);
    assert.match(e2.message, /embedding models: mini/);
  });

  it('an empty text, a dimension past the model, another model in the batch: 400 naming the field', T, async () => {
    const e1 = await status(ai.models.embedContent({ model: 'mini', contents: [''] }));
    assert.equal(e1.status, 400);
    assert.match(e1.message, /requests\[0\]\.content/);
    const e2 = await status(ai.models.embedContent({ model: 'mini', contents: 'x', config: { outputDimensionality: 65 } }));
    assert.equal(e2.status, 400);
    assert.match(e2.message, /outputDimensionality: 65 is more than models\/mini's 64 dimensions/);
    const r = await srv.raw('POST', '/v1beta/models/mini:batchEmbedContents', {
      body: { requests: [{ model: 'models/demo', content: { parts: [{ text: 'x' }] } }] },
    });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /requests\[0\]\.model/);
    const e3 = await status(ai.models.embedContent({ model: 'mini', contents: 'x', config: { taskType: 'GUESS' } }));
    assert.equal(e3.status, 400);
    assert.match(e3.message, /taskType: 'GUESS' is not a task type/);
    const r2 = await srv.raw('POST', '/v1beta/models/mini:embedContent', {
      body: { content: { parts: [{ inlineData: { mimeType: 'image/png', data: 'AAAA' } }] } },
    });
    assert.equal(r2.status, 400);
    assert.match(r2.json.error.message, /only text parts/);
  });

  it('the flag: repeatable (and comma lists), and a bad value stops serve with exit 2 naming it', T, async () => {
    const two = await startServer({ models: { demo: DEMO_MODEL },
      args: ['--embedding-model', `a=${EMBED_MODEL}`, '--embedding-model', `b=${EMBED_MODEL},c=${EMBED_MODEL}`] });
    const r = await two.raw('GET', '/v1beta/models?pageSize=100');
    const names = r.json.models.map((m) => m.name);
    for (const n of ['models/a', 'models/b', 'models/c']) assert.ok(names.includes(n), n);
    const bad = (args) => spawnSync(BIN, ['serve', '--port', '0', '--data', '/nonexistent/x', ...args], { encoding: 'utf8' });
    for (const [args, msg] of [
      [['--embedding-model', `a=${EMBED_MODEL}`, '--embedding-model', `a=${EMBED_MODEL}`], /--embedding-model: 'a' is given twice/],
      [['--embedding-model', `demo=${EMBED_MODEL}`], /--embedding-model: 'demo' is already a --model's name/],
      [['--embedding-model', '/nope/x.gguf'], /--embedding-model: cannot read '\/nope\/x\.gguf'/],
      [['--embedding-model', 'a:b=x.gguf'], /--embedding-model: model name 'a:b' may not hold/],
    ]) {
      const p = bad(args);
      assert.equal(p.status, 2, p.stderr);
      assert.match(p.stderr, msg);
    }
  });

  it('a server without --embedding-model says how to get one', T, async () => {
    const bare = await startServer({ models: { demo: DEMO_MODEL } });
    const r = await bare.raw('POST', '/v1beta/models/gemini-embedding-001:batchEmbedContents', {
      body: { requests: [{ content: { parts: [{ text: 'x' }] } }] },
    });
    assert.equal(r.status, 404);
    assert.match(r.json.error.message, /embedding models: none.*--embedding-model/);
  });
});
