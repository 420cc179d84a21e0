// Image output (issue 13), as the guide's "Geração de imagens" sends it: a
// model name routed by --upstream to an image engine. The engine here is a
// loopback server speaking OpenAI's images API exactly as sd-server and
// LocalAI do (POST /v1/images/generations, b64_json answers, OpenAI's error
// body); the PNG it returns is made by Debian's ffmpeg and must come back
// byte for byte. (sd-server's async API: tests/unit/test_images.c.)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { startServer, stopAll, T, collect } from './lib/server.mjs';
import { client3 } from './lib/steps.mjs';

let engine, srv, ai, ai3, png, tmp;
const seen = [];

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-images-'));
  const f = path.join(tmp, 'red.png');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', 'color=red:s=64x36', '-frames:v', '1', f]);
  png = fs.readFileSync(f);
  engine = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const j = body ? JSON.parse(body) : {};
      seen.push({ url: req.url, auth: req.headers.authorization, body: j });
      if (req.url !== '/v1/images/generations') { res.writeHead(404); res.end(); return; }
      if (j.prompt.includes('refuse')) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'the sampler ran out of memory', type: 'server_error' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ created: 1, data: [{ b64_json: png.toString('base64') }] }));
    });
  });
  await new Promise((r) => engine.listen(0, '127.0.0.1', r));
  srv = await startServer({ args: ['--upstream', `painter=http://127.0.0.1:${engine.address().port},key=sk-test`] });
  ai = srv.client();
  ai3 = client3(srv);
}, { timeout: 60_000 });
after(async () => {
  await stopAll();
  engine?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const REQ = { model: 'painter', input: 'A red square on a white table', response_modalities: ['IMAGE'],
  generation_config: { image_config: { aspect_ratio: '16:9', image_size: '1K' } } };

describe('image output', () => {
  it('an image engine by model name: the request mapped, the PNG passed through unchanged', T, async () => {
    const n = seen.length;
    const it_ = await ai.interactions.create(REQ);
    assert.equal(it_.status, 'completed');
    assert.deepEqual(it_.outputs.map((o) => o.type), ['image']);
    const imgs = it_.outputs.filter((o) => o.type === 'image');
    assert.equal(imgs.length, 1);
    assert.equal(imgs[0].mime_type, 'image/png');
    assert.deepEqual(Buffer.from(imgs[0].data, 'base64'), png);
    const req = seen[n];
    assert.equal(req.url, '/v1/images/generations');
    assert.equal(req.auth, 'Bearer sk-test');
    assert.equal(req.body.prompt, REQ.input);
    assert.equal(req.body.size, '1024x576', 'size from the aspect ratio');
    assert.equal(req.body.response_format, 'b64_json');
    const got = await ai.interactions.get(it_.id);
    assert.equal(got.outputs.find((o) => o.type === 'image').data, imgs[0].data);
  });

  it('streaming in both dialects: the image block, its data in a delta', T, async () => {
    const events = await collect(await ai.interactions.create({ ...REQ, stream: true }));
    const start = events.find((e) => e.event_type === 'content.start' && e.content.type === 'image');
    assert.ok(start);
    const d = events.find((e) => e.event_type === 'content.delta' && e.index === start.index);
    assert.equal(d.delta.type, 'image');
    assert.deepEqual(Buffer.from(d.delta.data, 'base64'), png);
    const ev3 = await collect(await ai3.interactions.create({ ...REQ, stream: true }));
    const d3 = ev3.find((e) => e.event_type === 'step.delta' && e.delta.type === 'image');
    assert.ok(d3);
    assert.deepEqual(Buffer.from(d3.delta.data, 'base64'), png);
  });

  it("the engine's error is the interaction's, naming the upstream; a model without an engine is a 400 naming the flag", T, async () => {
    const r = await srv.raw('POST', '/v1beta/interactions', { key: 'k', body: { ...REQ, input: 'please refuse' } });
    assert.equal(r.status, 502, r.text);
    assert.match(r.text, /upstream 'painter'.*out of memory/);
    const none = await srv.raw('POST', '/v1beta/interactions', { key: 'k', body: { ...REQ, model: 'demo' } });
    assert.equal(none.status, 400, none.text);
    assert.match(none.text, /--upstream demo=URL/);
    const ratio = await srv.raw('POST', '/v1beta/interactions', { key: 'k',
      body: { ...REQ, generation_config: { image_config: { aspect_ratio: '7:5' } } } });
    assert.equal(ratio.status, 400, ratio.text);
    assert.match(ratio.text, /aspect_ratio/);
  });
});
