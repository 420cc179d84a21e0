// Media input (issue 16, part 2) through libmtmd, as the guide shows it and
// the SDKs send it: a generated random-weight Gemma 3 text model (embedding
// size 128; tools/mkdemo) paired with the real Gemma 3 vision projector
// ../shared/models/mmproj-tinygemma3.gguf (32x32 images, 256 tokens each),
// and the same text model with a generated random-weight audio projector.
// Media are made at test time with ffmpeg (Debian). The model's text is
// noise: the tests assert what reached the model (usage by modality), that
// greedy output depends on the media (two images, two outputs; the same
// image, the same output), cache reuse through media along a chain (also
// after a restart), and the errors for media that cannot be read.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { GoogleGenAI as GenAI3 } from 'genai3';
import { startServer, stopAll, T, MODELS_DIR, REPO_ROOT, textOf, collect } from './lib/server.mjs';

const GEMMA = path.join(REPO_ROOT, 'build/gemma3.gguf');
const VISION = path.join(MODELS_DIR, 'mmproj-tinygemma3.gguf');
const AUDIO = path.join(REPO_ROOT, 'build/mmproj-audio.gguf');
const SKIP = !fs.existsSync(VISION) ? `SKIPPED: ${VISION} is absent (the ../shared/models folder is not here)`
  : !fs.existsSync(GEMMA) ? `SKIPPED: ${GEMMA} is absent (make builds it)` : false;
if (SKIP) console.log(`# ${SKIP}`);
const GREEDY = { temperature: 0, max_output_tokens: 12 };
const LONG = { timeout: 180_000 };
// max_output_tokens cuts most greedy answers of a random model: incomplete
const ENDED = ['completed', 'incomplete'];
// Gemma 3's own template refuses tool messages; a model with tools is
// served with a ChatML template over the same weights.
const CHATML = "{%- for message in messages -%}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + " +
  "'<|im_end|>\\n' -}}{%- endfor -%}{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}";

let srv, ai, tmp, media = {};

function ffmpeg(...args) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: 'pipe' });
}

/** Real files made with Debian's ffmpeg: two different images, audio, a video. */
function makeMedia(dir) {
  const f = (n) => path.join(dir, n);
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=1', '-frames:v', '1', f('a.png'));
  ffmpeg('-f', 'lavfi', '-i', 'mandelbrot=size=64x64:rate=1', '-frames:v', '1', f('b.png'));
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=1', '-frames:v', '1', f('a.jpg'));
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=1200x800:rate=1', '-frames:v', '1', f('big.png'));
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-ar', '16000', '-ac', '1', f('tone.wav'));
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=880:duration=1', '-ar', '16000', '-ac', '1', f('high.wav'));
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-ar', '16000', '-ac', '1', f('tone.mp3'));
  // formats libmtmd does not read itself: converted with ffmpeg
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-ac', '1', '-c:a', 'libopus', f('tone.ogg'));
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-ac', '1', '-c:a', 'aac', f('tone.m4a'));
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-ar', '24000', '-ac', '1', '-f', 's16be', f('tone.l16'));
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=1', '-frames:v', '1', f('a.tiff'));
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=2:duration=2', '-pix_fmt', 'yuv420p', f('clip.mp4'));
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=10:duration=90', '-pix_fmt', 'yuv420p', f('long.mp4'));
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=2', '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '2',
    '-pix_fmt', 'yuv420p', '-c:a', 'aac', f('sound.mp4'));
  // a two-page PDF from text, typeset by groff (Debian's groff, gropdf)
  fs.writeFileSync(f('doc.ms'), '.LP\nPage one says alpha.\n.bp\n.LP\nPage two says beta.\n');
  fs.writeFileSync(f('doc.pdf'), execFileSync('groff', ['-ms', '-Tpdf', f('doc.ms')]));
  fs.writeFileSync(f('other.ms'), '.LP\nA different document about gamma.\n');
  fs.writeFileSync(f('other.pdf'), execFileSync('groff', ['-ms', '-Tpdf', f('other.ms')]));
  const out = {};
  for (const n of fs.readdirSync(dir)) out[n] = fs.readFileSync(f(n));
  return out;
}

const b64 = (buf) => buf.toString('base64');
const img = (buf, mime = 'image/png') => ({ type: 'image', data: b64(buf), mime_type: mime });
const byModality = (list) => Object.fromEntries((list || []).map((e) => [e.modality, e.tokens]));

async function rawCreate(body, headers = {}) {
  const r = await fetch(`${srv.url}/v1beta/interactions`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

before(async () => {
  if (SKIP) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-media-'));
  media = makeMedia(tmp);
  fs.writeFileSync(path.join(tmp, 'chatml.jinja'), CHATML);
  const models = { gemma: GEMMA, tools: GEMMA, demo: path.join(REPO_ROOT, 'build/demo.gguf') };
  const args = ['--mmproj', `gemma=${VISION}`, '--mmproj', `tools=${VISION}`, '--allow-private-urls',
    '--chat-template', `tools=${path.join(tmp, 'chatml.jinja')}`];
  if (fs.existsSync(AUDIO)) {
    models.hear = GEMMA;
    args.push('--mmproj', `hear=${AUDIO}`);
  }
  srv = await startServer({ models, args });
  ai = srv.client();
}, { timeout: 120_000 });
after(async () => {
  await stopAll();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('image input (guide: "Compreensão de imagens")', { skip: SKIP }, () => {
  it('data: image tokens reach the model, counted by modality', T, async () => {
    const it_ = await ai.interactions.create({
      model: 'gemma', generation_config: GREEDY,
      input: [{ type: 'text', text: 'Describe the image.' }, img(media['a.png'])],
    });
    assert.ok(ENDED.includes(it_.status), it_.status);
    assert.equal(typeof textOf(it_), 'string');
    const by = byModality(it_.usage.input_tokens_by_modality);
    assert.equal(by.image, 256, JSON.stringify(it_.usage));
    assert.ok(by.text > 0);
    assert.equal(by.text + by.image, it_.usage.total_input_tokens);
  });

  it('greedy output depends on the image: two images differ, the same image repeats', LONG, async () => {
    let last;
    const ask = async (buf, mime) => textOf(last = await ai.interactions.create({
      model: 'gemma', generation_config: GREEDY, store: false,
      input: [{ type: 'text', text: 'Describe the image.' }, img(buf, mime)],
    }));
    const a1 = await ask(media['a.png']);
    const b = await ask(media['b.png']);
    // b's prompt matches a's only up to the image: none of a's image is reused for b
    assert.ok(!byModality(last.usage.cached_tokens_by_modality).image, JSON.stringify(last.usage));
    const a2 = await ask(media['a.png']);
    assert.equal(byModality(last.usage.cached_tokens_by_modality).image, 256);
    assert.equal(a1, a2, 'the same image gives the same greedy output');
    assert.notEqual(a1, b, 'different images give different outputs');
  });

  it('uri from a loopback server (allowed by --allow-private-urls), same answer as data', LONG, async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/a.png') { res.writeHead(200, { 'content-type': 'image/png' }); res.end(media['a.png']); return; }
      if (req.url === '/moved') { res.writeHead(302, { location: '/a.png' }); res.end(); return; }
      res.writeHead(404); res.end();
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${server.address().port}`;
    try {
      const viaData = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY,
        input: [{ type: 'text', text: 'Describe the image.' }, img(media['a.png'])] });
      for (const p of ['/a.png', '/moved']) {
        const viaUri = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY,
          input: [{ type: 'text', text: 'Describe the image.' }, { type: 'image', uri: base + p, mime_type: 'image/png' }] });
        assert.equal(textOf(viaUri), textOf(viaData), p);
        assert.equal(byModality(viaUri.usage.input_tokens_by_modality).image, 256);
      }
      const r = await rawCreate({ model: 'gemma', input: [{ type: 'text', text: 'x' }, { type: 'image', uri: `${base}/gone.png` }] });
      assert.equal(r.status, 400);
      assert.match(r.json.error.message, /^input\[1\]\.uri: .*404/);
    } finally {
      server.close();
    }
  });

  it('a Files API upload used by its URI', LONG, async () => {
    const f = await ai.files.upload({ file: new Blob([media['a.png']], { type: 'image/png' }) });
    assert.equal(f.state, 'ACTIVE');
    const viaFile = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY,
      input: [{ type: 'text', text: 'Describe the image.' }, { type: 'image', uri: f.uri, mime_type: 'image/png' }] });
    const viaData = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY,
      input: [{ type: 'text', text: 'Describe the image.' }, img(media['a.png'])] });
    assert.equal(textOf(viaFile), textOf(viaData));
    assert.equal(byModality(viaFile.usage.input_tokens_by_modality).image, 256);
    await ai.files.delete({ name: f.name });
  });

  it('JPEG, PNG and TIFF (through ffmpeg) all decode (256 tokens each)', T, async () => {
    const it_ = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY,
      input: [img(media['a.jpg'], 'image/jpeg'), { type: 'text', text: 'and' }, img(media['b.png']),
        img(media['a.tiff'], 'image/tiff')] });
    assert.equal(byModality(it_.usage.input_tokens_by_modality).image, 768);
  });

  it('resolution: accepted at every level; a large image is scaled down first at low / medium / high', LONG, async () => {
    const outs = {};
    for (const resolution of ['low', 'medium', 'high', 'ultra_high']) {
      const it_ = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY, store: false,
        input: [{ type: 'text', text: 'Describe.' }, { ...img(media['big.png']), resolution }] });
      // this projector takes 32x32 whatever it gets: 256 tokens at every level
      assert.equal(byModality(it_.usage.input_tokens_by_modality).image, 256, resolution);
      outs[resolution] = textOf(it_);
    }
    const again = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY, store: false,
      input: [{ type: 'text', text: 'Describe.' }, { ...img(media['big.png']), resolution: 'low' }] });
    assert.equal(textOf(again), outs.low);
  });

  it('a chain reuses the image from the cache: turn 2 never re-encodes it, also after a restart', LONG, async () => {
    const t1 = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY,
      input: [{ type: 'text', text: 'Look at this.' }, img(media['b.png'])] });
    const t2 = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY,
      input: 'And now?', previous_interaction_id: t1.id });
    const cached = byModality(t2.usage.cached_tokens_by_modality);
    assert.equal(cached.image, 256, JSON.stringify(t2.usage));
    assert.equal(byModality(t2.usage.input_tokens_by_modality).image, 256);
    assert.ok(t2.usage.total_cached_tokens >= t1.usage.total_input_tokens, JSON.stringify([t1.usage, t2.usage]));
    // a stateless resend of the same bytes reuses it too
    const resend = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY, store: false,
      input: [{ role: 'user', content: [{ type: 'text', text: 'Look at this.' }, img(media['b.png'])] },
        { role: 'model', content: t1.outputs }, { role: 'user', content: 'And now?' }] });
    assert.equal(byModality(resend.usage.cached_tokens_by_modality).image, 256);
    // after a restart, from the disk cache
    srv = await srv.restart();
    ai = srv.client();
    const t3 = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY,
      input: 'Once more?', previous_interaction_id: t2.id });
    assert.equal(byModality(t3.usage.cached_tokens_by_modality).image, 256, JSON.stringify(t3.usage));
    assert.ok(ENDED.includes(t3.status), t3.status);
  });

  it('streams like text, usage by modality on the complete event', T, async () => {
    const events = await collect(await ai.interactions.create({ model: 'gemma', stream: true,
      generation_config: GREEDY, input: [{ type: 'text', text: 'Describe.' }, img(media['a.png'])] }));
    const done = events.find((e) => e.event_type === 'interaction.complete');
    assert.equal(byModality(done.interaction.usage.input_tokens_by_modality).image, 256);
  });

  it('a function result with a screenshot reaches the vision model', T, async () => {
    const it_ = await ai.interactions.create({ model: 'tools', generation_config: GREEDY, input: [
      { role: 'user', content: 'Take a screenshot.' },
      { role: 'model', content: [{ type: 'function_call', id: 'c1', name: 'screenshot', arguments: {} }] },
      { role: 'user', content: [{ type: 'function_result', call_id: 'c1', name: 'screenshot',
        result: [{ type: 'text', text: 'the screen' }, img(media['a.png'])] }] },
    ], tools: [{ type: 'function', name: 'screenshot', description: 'screen', parameters: { type: 'object', properties: {} } }] });
    assert.equal(byModality(it_.usage.input_tokens_by_modality).image, 256, JSON.stringify(it_.usage));
  });

  it('SDK 3.x (steps dialect): an image in a user_input step', T, async () => {
    const ai3 = new GenAI3({ apiKey: 'e2e-key', httpOptions: { baseUrl: srv.url } });
    const it_ = await ai3.interactions.create({ model: 'gemma', generation_config: GREEDY,
      input: [{ type: 'user_input', content: [{ type: 'text', text: 'Describe the image.' }, img(media['a.png'])] }] });
    assert.ok(ENDED.includes(it_.status), it_.status);
    assert.equal(byModality(it_.usage.input_tokens_by_modality).image, 256);
    const got = await ai3.interactions.get(it_.id, { include_input: true });
    assert.ok(JSON.stringify(got).includes(b64(media['a.png']).slice(0, 40)), 'the image is kept with the input');
  });
});

describe('audio and video input', { skip: SKIP }, () => {
  it('audio (WAV and MP3) reaches a model with an audio projector; two sounds differ', LONG, async (t) => {
    if (!fs.existsSync(AUDIO)) return t.skip(`${AUDIO} is absent`);
    const ask = async (name, mime) => ai.interactions.create({ model: 'hear', generation_config: GREEDY, store: false,
      input: [{ type: 'text', text: 'What does this audio say?' }, { type: 'audio', data: b64(media[name]), mime_type: mime }] });
    const a = await ask('tone.wav', 'audio/wav');
    const by = byModality(a.usage.input_tokens_by_modality);
    assert.ok(by.audio > 0, JSON.stringify(a.usage));
    const again = await ask('tone.wav', 'audio/wav');
    const other = await ask('high.wav', 'audio/wav');
    assert.equal(textOf(again), textOf(a));
    assert.notEqual(textOf(other), textOf(a));
    const mp3 = await ask('tone.mp3', 'audio/mp3');
    assert.ok(byModality(mp3.usage.input_tokens_by_modality).audio > 0);
    // Ogg/Opus, AAC in M4A, headerless L16 at 24 kHz: through ffmpeg
    for (const [name, mime] of [['tone.ogg', 'audio/ogg'], ['tone.m4a', 'audio/m4a'], ['tone.l16', 'audio/L16;rate=24000']]) {
      const r = await ask(name, mime);
      assert.ok(byModality(r.usage.input_tokens_by_modality).audio > 0, `${mime}: ${JSON.stringify(r.usage)}`);
    }
    const bad = await rawCreate({ model: 'hear', input: [{ type: 'text', text: 'x' },
      { type: 'audio', data: b64(Buffer.from('not audio at all, just text')), mime_type: 'audio/ogg' }] });
    assert.equal(bad.status, 400, JSON.stringify(bad.json));
    assert.match(bad.json.error.message, /^input\[1\]\.data: not audio ffmpeg can decode as audio\/ogg/);
  });

  it('video: frames sampled with ffmpeg become image tokens counted as video', LONG, async () => {
    const it_ = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY,
      input: [{ type: 'text', text: 'What is happening in this video?' },
        { type: 'video', data: b64(media['clip.mp4']), mime_type: 'video/mp4' }] });
    const by = byModality(it_.usage.input_tokens_by_modality);
    // two frames (one a second) of 256 tokens, and the timestamp text
    assert.ok(by.video >= 2 * 256, JSON.stringify(it_.usage));
  });
});

describe('a long video', { skip: SKIP }, () => {
  it('is sampled evenly to fit the context (one frame a second, at most 3/4 of it)', LONG, async () => {
    const it_ = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY,
      input: [{ type: 'text', text: 'Summarize.' }, { type: 'video', data: b64(media['long.mp4']), mime_type: 'video/mp4' }] });
    const by = byModality(it_.usage.input_tokens_by_modality);
    // 90 frames at 1 fps would be 23,040 tokens; the context is 8,192
    assert.ok(by.video > 256 && by.video <= 8192 * 3 / 4 + 512, JSON.stringify(it_.usage));
    assert.ok(ENDED.includes(it_.status), it_.status);
  });
});

describe('a video\'s audio track', { skip: SKIP }, () => {
  it('goes to a model that takes audio (alone when it takes no video); a silent video is a 400 there', LONG, async (t) => {
    if (!fs.existsSync(AUDIO)) return t.skip(`${AUDIO} is absent`);
    const it_ = await ai.interactions.create({ model: 'hear', generation_config: GREEDY,
      input: [{ type: 'text', text: 'What is said?' }, { type: 'video', data: b64(media['sound.mp4']), mime_type: 'video/mp4' }] });
    const by = byModality(it_.usage.input_tokens_by_modality);
    assert.ok(by.audio > 0, JSON.stringify(it_.usage));
    assert.ok(!by.video, 'an audio model gets no frames');
    const r = await rawCreate({ model: 'hear', input: [{ type: 'text', text: 'x' }, { type: 'video', data: b64(media['clip.mp4']) }] });
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.match(r.json.error.message, /^input\[1\]\.data: the video has no audio track, and model hear takes no video/);
    // a vision model gets the frames only
    const v = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY,
      input: [{ type: 'text', text: 'What is happening?' }, { type: 'video', data: b64(media['sound.mp4']), mime_type: 'video/mp4' }] });
    const vb = byModality(v.usage.input_tokens_by_modality);
    assert.ok(vb.video >= 256 && !vb.audio, JSON.stringify(v.usage));
  });
});

describe('documents (guide: "Entendimento de documentos (PDF)")', { skip: SKIP }, () => {
  const doc = (name, mime = 'application/pdf') => ({ type: 'document', data: b64(media[name]), mime_type: mime });

  it('a PDF: each page\'s text for a text model, text and the page drawn for a vision model', LONG, async () => {
    const text = await ai.interactions.create({ model: 'demo', generation_config: GREEDY,
      input: [{ type: 'text', text: 'What is this document about?' }, doc('doc.pdf')] });
    const tb = byModality(text.usage.input_tokens_by_modality);
    assert.ok(tb.document > 10, JSON.stringify(text.usage));
    assert.ok(!tb.image);
    const vis = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY,
      input: [{ type: 'text', text: 'What is this document about?' }, doc('doc.pdf')] });
    const vb = byModality(vis.usage.input_tokens_by_modality);
    assert.ok(vb.document >= 2 * 256, `two pages drawn: ${JSON.stringify(vis.usage)}`);
    // another document, another answer; the same document, the same answer
    const again = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY, store: false,
      input: [{ type: 'text', text: 'What is this document about?' }, doc('doc.pdf')] });
    const other = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY, store: false,
      input: [{ type: 'text', text: 'What is this document about?' }, doc('other.pdf')] });
    assert.equal(textOf(again), textOf(vis));
    assert.notEqual(textOf(other), textOf(vis));
  });

  it('a text document (text/plain) is read as text', T, async () => {
    const it_ = await ai.interactions.create({ model: 'demo', generation_config: GREEDY, input: [
      { type: 'text', text: 'Summarize.' },
      { type: 'document', data: Buffer.from('Alpha beta gamma delta.').toString('base64'), mime_type: 'text/plain' }] });
    assert.ok(byModality(it_.usage.input_tokens_by_modality).document > 0, JSON.stringify(it_.usage));
  });

  it('a corrupt or truncated PDF is a 400 naming the part', T, async () => {
    for (const bytes of [media['doc.pdf'].subarray(0, 200), Buffer.from('%PDF-1.4 garbage garbage')]) {
      const r = await rawCreate({ model: 'demo', input: [{ type: 'text', text: 'x' },
        { type: 'document', data: b64(bytes), mime_type: 'application/pdf' }] });
      assert.equal(r.status, 400, JSON.stringify(r.json));
      assert.match(r.json.error.message, /^input\[1\]\.data: /);
    }
  });
});

describe('bad media input: a clear 400 naming the part, nothing stored', { skip: SKIP }, () => {
  it('a model without a projector names its modalities and the flag', T, async () => {
    const r = await rawCreate({ model: 'demo', input: [{ type: 'text', text: 'x' }, img(media['a.png'])] });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.message, 'input[1]: model demo does not take image input (it takes text; serve it with its projector: --mmproj NAME=PATH)');
  });

  it('audio to a vision-only model', T, async () => {
    const r = await rawCreate({ model: 'gemma', input: [{ type: 'audio', data: b64(media['tone.wav']) }, { type: 'text', text: 'x' }] });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /^input\[0\]: model gemma does not take audio input \(it takes text, image/);
  });

  it('corrupt, truncated and mislabelled bytes', T, async () => {
    const png = media['a.png'];
    const cases = [
      [{ type: 'image', data: 'not base64!' }, /^input\[1\]\.data: not valid base64/],
      [img(png.subarray(0, 40)), /^input\[1\]\.data: not an image this server decodes/],
      [img(Buffer.from('hello, I am text')), /^input\[1\]\.data: not an image/],
      [img(png, 'audio/wav'), /^input\[1\]\.mime_type: 'audio\/wav' is not an image type/],
      // a header claiming 20000 x 20000 pixels: refused before any decoder allocates for it
      [img(Buffer.concat([png.subarray(0, 16), Buffer.from([0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20]), png.subarray(24)])),
        /^input\[1\]\.data: the image is 20000 x 20000 pixels, more than the 64 megapixels/],
      [{ type: 'image', uri: 'ftp://example.com/x.png' }, /^input\[1\]\.uri: expected an http\(s\) URL or a Files API URI/],
    ];
    for (const [part, re] of cases) {
      const r = await rawCreate({ model: 'gemma', input: [{ type: 'text', text: 'x' }, part] });
      assert.equal(r.status, 400, JSON.stringify(r.json));
      assert.equal(r.json.error.code, 'invalid_request');
      assert.match(r.json.error.message, re);
    }
    // the server is fine afterwards
    const ok = await ai.interactions.create({ model: 'gemma', generation_config: GREEDY, input: [img(png), { type: 'text', text: 'ok?' }] });
    assert.ok(ENDED.includes(ok.status), ok.status);
  });

  it('a uri to a private address is refused without --allow-private-urls, also after a redirect', LONG, async () => {
    // the image server is allowed by name (--allow-addresses 127.0.0.1:PORT);
    // its redirect to another loopback port is not
    const other = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'image/png' }); res.end(media['a.png']); });
    await new Promise((r) => other.listen(0, '127.0.0.1', r));
    const server = http.createServer((req, res) => {
      if (req.url === '/a.png') { res.writeHead(200, { 'content-type': 'image/png' }); res.end(media['a.png']); return; }
      if (req.url === '/big.png') { res.writeHead(200, { 'content-type': 'image/png' }); res.end(media['big.png']); return; }
      res.writeHead(302, { location: `http://127.0.0.1:${other.address().port}/a.png` }); res.end();
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const allowed = `http://127.0.0.1:${server.address().port}`;
    const strict = await startServer({ models: { gemma: GEMMA },
      args: ['--mmproj', `gemma=${VISION}`, '--allow-addresses', `127.0.0.1:${server.address().port}`,
        '--max-media-size', String(media['a.png'].length + 16)] });
    const post = (uri) => fetch(`${strict.url}/v1beta/interactions`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemma', generation_config: GREEDY, input: [{ type: 'text', text: 'x' }, { type: 'image', uri }] }) })
      .then(async (r) => ({ status: r.status, json: await r.json() }));
    try {
      const ok = await post(`${allowed}/a.png`);
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      assert.equal(byModality(ok.json.usage.input_tokens_by_modality).image, 256);
      const big = await post(`${allowed}/big.png`);
      assert.equal(big.status, 413, JSON.stringify(big.json));
      assert.match(big.json.error.message, /^input\[1\]\.uri: .*larger than the limit.*--max-media-size/);
      const redirected = await post(`${allowed}/elsewhere`);
      assert.equal(redirected.status, 400, JSON.stringify(redirected.json));
      assert.match(redirected.json.error.message, /^input\[1\]\.uri: .*127\.0\.0\.1.*--allow-private-urls/);
      for (const uri of ['http://127.0.0.1:9/a.png', 'http://10.1.2.3/a.png', 'http://169.254.169.254/latest/meta-data',
        'http://[::1]/a.png', 'http://localhost/a.png']) {
        const r = await fetch(`${strict.url}/v1beta/interactions`, { method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gemma', input: [{ type: 'text', text: 'x' }, { type: 'image', uri }] }) });
        const j = await r.json();
        assert.equal(r.status, 400, uri);
        assert.match(j.error.message, /^input\[1\]\.uri: .*--allow-private-urls/, uri);
      }
    } finally {
      server.close();
      other.close();
      await strict.stop();
    }
  });
});
