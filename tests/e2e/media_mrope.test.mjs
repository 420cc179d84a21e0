// Media placed with M-RoPE positions (issue 16: the Qwen2-VL / Qwen2.5-VL /
// Qwen3-VL families): the build's random-weight Qwen2-VL pair
// (build/qwen2vl.gguf and build/mmproj-qwen2vl.gguf, tools/mkdemo_qwen.c;
// 16x16 pixels a token), the projector found beside the model by its name.
// An image of nx by ny tokens takes max(nx, ny) positions, so a position is
// no longer a token's index: the tests assert that a chain reused through
// the image (warm, then from disk after a restart) gives the greedy output
// a server with the prefix cache off gives, token for token — the server
// against itself, so it catches a reuse path that places tokens otherwise
// than a cold prefill does; that the positions are libmtmd's own is
// checked against libmtmd's helper in tests/unit/test_mrope.c. Media made
// with ffmpeg (Debian), seeded: the same pictures every run. Needs nothing
// from ../shared.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopAll, REPO_ROOT, textOf } from './lib/server.mjs';

const QWEN = path.join(REPO_ROOT, 'build/qwen2vl.gguf');
const SKIP = !fs.existsSync(QWEN) ? `SKIPPED: ${QWEN} is absent (make builds it)` : false;
const GREEDY = { temperature: 0, max_output_tokens: 10 };
const LONG = { timeout: 180_000 };
const ENDED = ['completed', 'incomplete'];

let tmp, media = {};
const b64 = (buf) => buf.toString('base64');
const img = (buf) => ({ type: 'image', data: b64(buf), mime_type: 'image/png' });
const byModality = (list) => Object.fromEntries((list || []).map((e) => [e.modality, e.tokens]));

function ffmpeg(...args) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { stdio: 'pipe' });
}

before(() => {
  if (SKIP) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-mrope-'));
  const f = (n) => path.join(tmp, n);
  // wide: 96x32 px = 6x2 tokens at 6 positions; tall: 32x96 = 2x6
  ffmpeg('-f', 'lavfi', '-i', 'cellauto=size=96x32:rule=30:rate=1:seed=1', '-frames:v', '1', f('wide.png'));
  ffmpeg('-f', 'lavfi', '-i', 'cellauto=size=32x96:rule=90:rate=1:seed=1', '-frames:v', '1', f('tall.png'));
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=2:duration=2', '-pix_fmt', 'yuv420p', f('clip.mp4'));
  for (const n of fs.readdirSync(tmp)) media[n] = fs.readFileSync(f(n));
});
after(async () => {
  await stopAll();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('Qwen2-VL (M-RoPE positions)', { skip: SKIP }, () => {
  it('the projector beside the model is found; images count by modality and change the output', LONG, async () => {
    const srv = await startServer({ models: { qwen: QWEN } });
    try {
      assert.match(srv.stderr(), /projector .*mmproj-qwen2vl\.gguf \(text, image, video\)/);
      const ai = srv.client();
      const ask = (buf) => ai.interactions.create({ model: 'qwen', generation_config: GREEDY, store: false,
        input: [{ type: 'text', text: 'Describe the image.' }, img(buf)] });
      const w1 = await ask(media['wide.png']);
      const w2 = await ask(media['wide.png']);
      const t = await ask(media['tall.png']);
      for (const r of [w1, t, w2]) {
        assert.ok(ENDED.includes(r.status), r.status);
        assert.equal(byModality(r.usage.input_tokens_by_modality).image, 12, JSON.stringify(r.usage));
      }
      assert.equal(byModality(w2.usage.cached_tokens_by_modality).image, 12, JSON.stringify(w2.usage));
      assert.ok(!byModality(t.usage.cached_tokens_by_modality).image, JSON.stringify(t.usage));
      assert.equal(textOf(w1), textOf(w2), 'the same image, the same greedy output');
      assert.notEqual(textOf(w1), textOf(t), 'another image, another output');
    } finally {
      await srv.stop();
    }
  });

  it('a chain reused through its images (warm, and from disk after a restart) answers as a cold server', LONG, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-mrope-data-'));
    const turns = [];
    let srv = await startServer({ models: { qwen: QWEN }, dataDir });
    try {
      let ai = srv.client();
      const t1 = await ai.interactions.create({ model: 'qwen', generation_config: GREEDY,
        input: [{ type: 'text', text: 'Look at this.' }, img(media['wide.png']), { type: 'text', text: 'And this.' },
          img(media['tall.png'])] });
      assert.equal(byModality(t1.usage.input_tokens_by_modality).image, 24);
      const t2 = await ai.interactions.create({ model: 'qwen', generation_config: GREEDY,
        input: 'Which is wider?', previous_interaction_id: t1.id });
      assert.equal(byModality(t2.usage.cached_tokens_by_modality).image, 24, JSON.stringify(t2.usage));
      assert.ok(t2.usage.total_cached_tokens >= t1.usage.total_input_tokens, JSON.stringify([t1.usage, t2.usage]));
      turns.push(['warm', t2]);
      // from the disk cache after a restart
      srv = await srv.restart();
      ai = srv.client();
      const t2disk = await ai.interactions.create({ model: 'qwen', generation_config: GREEDY,
        input: 'Which is wider?', previous_interaction_id: t1.id });
      assert.equal(byModality(t2disk.usage.cached_tokens_by_modality).image, 24, JSON.stringify(t2disk.usage));
      turns.push(['after a restart', t2disk]);
      await srv.stop();
      // the same turn computed from nothing
      srv = await startServer({ models: { qwen: QWEN }, dataDir, args: ['--prefix-cache', 'off'] });
      ai = srv.client();
      const t2cold = await ai.interactions.create({ model: 'qwen', generation_config: GREEDY,
        input: 'Which is wider?', previous_interaction_id: t1.id });
      assert.equal(t2cold.usage.total_cached_tokens ?? 0, 0, JSON.stringify(t2cold.usage));
      for (const [what, r] of turns) assert.equal(textOf(r), textOf(t2cold), what);
    } finally {
      await srv.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a video: its frames at M-RoPE positions, deterministic', LONG, async () => {
    const srv = await startServer({ models: { qwen: QWEN } });
    try {
      const ai = srv.client();
      const ask = () => ai.interactions.create({ model: 'qwen', generation_config: GREEDY, store: false,
        input: [{ type: 'text', text: 'What happens?' }, { type: 'video', data: b64(media['clip.mp4']), mime_type: 'video/mp4' }] });
      const a = await ask();
      const b = await ask();
      assert.ok(ENDED.includes(a.status), a.status);
      assert.ok(byModality(a.usage.input_tokens_by_modality).video > 0, JSON.stringify(a.usage));
      assert.equal(textOf(a), textOf(b));
    } finally {
      await srv.stop();
    }
  });
});
