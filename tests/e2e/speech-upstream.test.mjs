// Speech output from an upstream engine (issue 13): a model name routed by
// `--upstream NAME=URL,api=speech` to an engine speaking OpenAI's
// /v1/audio/speech as Kokoro-FastAPI and Piper's servers do. The engine here
// is a loopback server that answers 24 kHz 16-bit PCM ("response_format":
// "pcm") in chunks of odd sizes, a little apart; the audio output must be
// exactly its bytes, and the streamed deltas must join to it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, stopAll, T, collect } from './lib/server.mjs';

const MIME = 'audio/L16;codec=pcm;rate=24000';
let engine, srv, ai;
const seen = [];
// 0.25 s of a 440 Hz tone as little-endian samples
const pcm = Buffer.alloc(6000 * 2);
for (let i = 0; i < 6000; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 24000)), 2 * i);

before(async () => {
  engine = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', async () => {
      const j = body ? JSON.parse(body) : {};
      seen.push({ url: req.url, auth: req.headers.authorization, body: j });
      if (req.url !== '/v1/audio/speech') { res.writeHead(404); res.end(); return; }
      if (j.voice === 'Kore') {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: "Voice 'Kore' not found", type: 'invalid_request_error' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'audio/pcm' });
      for (let at = 0, k = 0; at < pcm.length; k++) {
        const n = [1001, 3, 4095, 7][k % 4];
        res.write(pcm.subarray(at, at + n));
        at += n;
        await new Promise((r) => setTimeout(r, 10));
      }
      res.end();
    });
  });
  await new Promise((r) => engine.listen(0, '127.0.0.1', r));
  srv = await startServer({ args: ['--upstream',
    `kokoro=http://127.0.0.1:${engine.address().port},api=speech,model=kokoro-v1,voice=af_bella,key=sk-test`] });
  ai = srv.client();
}, { timeout: 60_000 });
after(async () => {
  await stopAll();
  engine?.close();
});

const REQ = { model: 'kokoro', input: 'Say cheerfully: have a wonderful day!', response_modalities: ['AUDIO'],
  generation_config: { speech_config: { voice: 'af_heart' } } };

describe('speech output from an upstream engine', () => {
  it("the engine's voice by name, its PCM passed through unchanged", T, async () => {
    const n = seen.length;
    const it_ = await ai.interactions.create(REQ);
    assert.equal(it_.status, 'completed', JSON.stringify(it_));
    assert.deepEqual(it_.outputs.map((o) => o.type), ['audio']);
    const a = it_.outputs[0];
    assert.equal(a.mime_type, MIME);
    assert.deepEqual(Buffer.from(a.data, 'base64'), pcm);
    const req = seen[n];
    assert.equal(req.url, '/v1/audio/speech');
    assert.equal(req.auth, 'Bearer sk-test');
    assert.deepEqual(req.body, { model: 'kokoro-v1', input: REQ.input, voice: 'af_heart', response_format: 'pcm' });
    const got = await ai.interactions.get(it_.id);
    assert.equal(got.outputs.find((o) => o.type === 'audio').data, a.data);
  });

  it('streamed: the deltas join to the audio; no voice asked: the upstream voice=', T, async () => {
    const n = seen.length;
    const { generation_config: _, ...plain } = REQ;
    const events = await collect(await ai.interactions.create({ ...plain, stream: true }));
    const d = events.filter((e) => e.event_type === 'content.delta' && e.delta.type === 'audio');
    assert.ok(d.length >= 1);
    const joined = Buffer.concat(d.map((x) => Buffer.from(x.delta.data, 'base64')));
    assert.deepEqual(joined, pcm);
    assert.equal(seen[n].body.voice, 'af_bella');
  });

  it("the engine's refusal is a 400 quoting it", T, async () => {
    const r = await srv.raw('POST', '/v1beta/interactions', { key: 'k',
      body: { ...REQ, generation_config: { speech_config: { voice: 'Kore' } } } });
    const it_ = r.status === 200 ? JSON.parse(r.text) : null;
    const text = it_ ? JSON.stringify(it_.error || it_) : r.text;
    assert.ok(r.status === 400 || it_?.status === 'failed', r.text);
    assert.match(text, /upstream 'kokoro' refused the request.*Voice 'Kore' not found/);
  });
});
