// Speech output through llama.cpp's own speech generation (issue 13):
// `serve --speech-model NAME=BACKBONE.gguf` with the random-weight
// PocketTTS pair `make` writes (tools/mkdemo_tts.c: build/pockettts.gguf and
// build/mmproj-pockettts.gguf, found beside it). The guide's speech
// examples run unchanged but for the model's name; the audio is noise from
// random weights, so what is checked is what the path guarantees: the
// audio decoded and written as a WAV that sox reads as 24 kHz 16-bit mono
// of a length > 0, deltas while it is made that add up to the stored
// audio, the same audio for the same request, another for another text,
// voice or seed, two speakers' turns each with its voice, cancel, the
// output bounded by max_output_tokens, and the start-up errors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { startServer, stopAll, T, collect, assertEnded, REPO_ROOT, BIN } from './lib/server.mjs';
import { client3 } from './lib/steps.mjs';

const NAME = 'pocket';
const BACKBONE = path.join(REPO_ROOT, 'build/pockettts.gguf');
const MIME = 'audio/L16;codec=pcm;rate=24000';
const FRAME = 1920 * 2; // bytes of one 80 ms frame at 24 kHz, 16-bit
const GUIDE = {
  model: NAME, input: 'Say cheerfully: Have a wonderful day!', response_modalities: ['AUDIO'],
  generation_config: { speech_config: { language: 'en-US', voice: 'Kore' } },
};
const DIALOGUE = `TTS the following conversation between Joe and Jane:
Joe: How's it going today Jane?
Jane: Not too bad, how about you?`;
let srv, ai, ai3, tmp;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-speech-llama-'));
  // speaker references: a second of a low and of a high tone
  for (const [n, hz] of [['low', 150], ['high', 400]])
    execFileSync('sox', ['-n', '-r', '24000', '-c', '1', '-b', '16', path.join(tmp, `${n}.wav`), 'synth', '1', 'sine', String(hz)]);
  srv = await startServer({ args: ['--speech-model',
    `${NAME}=${BACKBONE},speaker=${path.join(tmp, 'low.wav')},voice=Puck:${path.join(tmp, 'high.wav')}`] });
  ai = srv.client();
  ai3 = client3(srv);
}, { timeout: 60_000 });
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function audioOf(outputs) {
  const a = outputs.filter((o) => o.type === 'audio');
  assert.equal(a.length, 1, JSON.stringify(outputs.map((o) => o.type)));
  return a[0];
}
const pcmOf = (it_) => Buffer.from(audioOf(it_.outputs).data, 'base64');

/** The guide's wave_file(): the PCM written as a WAV, then what `sox --i`
 * reads of it. */
function soxInfo(pcm, name) {
  const raw = path.join(tmp, `${name}.raw`), wav = path.join(tmp, `${name}.wav`);
  fs.writeFileSync(raw, pcm);
  execFileSync('sox', ['-t', 'raw', '-r', '24000', '-e', 'signed', '-b', '16', '-c', '1', '-L', raw, wav]);
  const q = (flag) => execFileSync('sox', ['--i', flag, wav]).toString().trim();
  return { rate: Number(q('-r')), channels: Number(q('-c')), bits: Number(q('-b')), seconds: Number(q('-D')) };
}

describe('speech output from llama.cpp (--speech-model)', () => {
  it("the guide's request: one audio output that sox reads as 24 kHz 16-bit mono", T, async () => {
    const it_ = await ai.interactions.create(GUIDE);
    assertEnded(assert, it_);
    assert.equal(it_.status, 'completed', JSON.stringify(it_));
    assert.deepEqual(it_.outputs.map((o) => o.type), ['audio']);
    assert.deepEqual(it_.response_modalities, ['audio'], 'echoed as the SDK types it');
    assert.equal(audioOf(it_.outputs).mime_type, MIME);
    assert.deepEqual((await ai.interactions.get(it_.id)).response_modalities, ['audio'], 'and stored');
    assert.deepEqual((await ai3.interactions.create(GUIDE)).response_modalities, ['audio'], 'steps dialect too');
    const pcm = pcmOf(it_);
    assert.ok(pcm.length > 0 && pcm.length % FRAME === 0, `${pcm.length} bytes: whole frames`);
    const s = soxInfo(pcm, 'guide');
    assert.equal(s.rate, 24000);
    assert.equal(s.channels, 1);
    assert.equal(s.bits, 16);
    assert.ok(s.seconds > 0, `${s.seconds} s`);
    const by = Object.fromEntries(it_.usage.output_tokens_by_modality.map((e) => [e.modality, e.tokens]));
    assert.equal(by.audio, Math.ceil(s.seconds * 25), JSON.stringify(it_.usage));
  });

  it('the same request gives the same audio; another text, voice or seed another', T, async () => {
    const a = pcmOf(await ai.interactions.create(GUIDE));
    const again = pcmOf(await ai.interactions.create(GUIDE));
    assert.deepEqual(again, a, 'a fixed seed: deterministic');
    const other = pcmOf(await ai.interactions.create({ ...GUIDE, input: 'Say sadly: Have a terrible night!' }));
    assert.notDeepEqual(other, a);
    const puck = pcmOf(await ai.interactions.create({ ...GUIDE,
      generation_config: { speech_config: { voice: 'Puck' } } }));
    assert.equal(puck.length, a.length);
    assert.notDeepEqual(puck, a, "Puck's reference audio");
    const seeded = pcmOf(await ai.interactions.create({ ...GUIDE,
      generation_config: { ...GUIDE.generation_config, seed: 99 } }));
    assert.notDeepEqual(seeded, a);
    const longer = pcmOf(await ai.interactions.create({ ...GUIDE,
      input: 'Say cheerfully: Have a wonderful day, and a wonderful evening with all of your friends and family!' }));
    assert.ok(longer.length > a.length, 'a longer text, a longer audio');
  });

  it('max_output_tokens bounds the audio (25 tokens a second)', T, async () => {
    const it_ = await ai.interactions.create({ ...GUIDE,
      generation_config: { ...GUIDE.generation_config, max_output_tokens: 10 } });
    assert.equal(pcmOf(it_).length, 5 * FRAME, '10 tokens: 5 frames of 80 ms');
  });

  it("two speakers (the guide's Joe and Jane): each turn with its voice, the pause between", T, async () => {
    const two = { model: NAME, input: DIALOGUE, response_modalities: ['AUDIO'],
      generation_config: { speech_config: [
        { voice: 'Kore', speaker: 'Joe', language: 'en-US' },
        { voice: 'Puck', speaker: 'Jane', language: 'en-US' }] } };
    const it_ = await ai.interactions.create(two);
    assert.equal(it_.status, 'completed', JSON.stringify(it_));
    const both = pcmOf(it_);
    const joe = pcmOf(await ai.interactions.create({ ...GUIDE, input: "How's it going today Jane?" }));
    const jane = pcmOf(await ai.interactions.create({ ...GUIDE, input: 'Not too bad, how about you?',
      generation_config: { speech_config: { voice: 'Puck' } } }));
    const pause = 24000 * 0.3 * 2;
    // text before the first label is spoken too, with the first voice
    assert.ok(both.length > joe.length + pause + jane.length, `${both.length} vs ${joe.length}+${jane.length}`);
    assert.deepEqual(both.subarray(both.length - jane.length), jane, "Jane's turn, in Puck's voice, last");
    assert.ok(soxInfo(both, 'dialogue').seconds > 0);
  });

  it('streaming: audio deltas while it is made, adding up to the stored audio', T, async () => {
    const events = await collect(await ai.interactions.create({ ...GUIDE, stream: true }));
    const start = events.find((e) => e.event_type === 'content.start' && e.content.type === 'audio');
    assert.ok(start, events.map((e) => e.event_type).join());
    assert.equal(start.content.mime_type, MIME);
    const deltas = events.filter((e) => e.event_type === 'content.delta' && e.index === start.index);
    assert.ok(deltas.length > 1, `${deltas.length} deltas: frames are sent as they are made`);
    for (const d of deltas) assert.equal(d.delta.type, 'audio');
    const joined = Buffer.concat(deltas.map((d) => Buffer.from(d.delta.data, 'base64')));
    const id = events.find((e) => e.event_type === 'interaction.start').interaction.id;
    assert.deepEqual(joined, pcmOf(await ai.interactions.get(id)));
    // SDK 3.x (steps): step deltas of type audio
    const ev3 = await collect(await ai3.interactions.create({ ...GUIDE, stream: true }));
    const d3 = ev3.filter((e) => e.event_type === 'step.delta' && e.delta.type === 'audio');
    assert.ok(d3.length > 1);
    assert.deepEqual(Buffer.concat(d3.map((x) => Buffer.from(x.delta.data, 'base64'))), joined);
  });

  it('a cancel stops it between frames', T, async () => {
    const long = { ...GUIDE, background: true, input: 'Say: ' + 'A very long story about many things. '.repeat(40) };
    const it_ = await ai.interactions.create(long);
    const c = await ai.interactions.cancel(it_.id);
    assert.ok(['cancelled', 'completed'].includes(c.status), c.status);
    const got = await ai.interactions.get(it_.id);
    assert.equal(got.status, 'cancelled', 'minutes of audio to make: the cancel comes first');
  });

  it('a speech model takes no earlier turns and draws no images; an unknown model lists it', T, async () => {
    let r = await srv.raw('POST', '/v1beta/interactions', { key: 'k', body: { ...GUIDE, response_modalities: ['IMAGE'] } });
    assert.equal(r.status, 400, r.text);
    r = await srv.raw('POST', '/v1beta/interactions', { key: 'k', body: { ...GUIDE, previous_interaction_id: 'v1_abc' } });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /only speaks its input/);
    r = await srv.raw('POST', '/v1beta/interactions', { key: 'k', body: { ...GUIDE, model: 'nobody' } });
    assert.equal(r.status, 404, r.text);
    assert.match(r.text, /served models: .*, pocket/);
  });
});

describe('--speech-model start-up errors', () => {
  const serve = (spec) => spawnSync(BIN, ['serve', '--port', '0', '--data', path.join(tmp, 'd'), '--speech-model', spec],
    { encoding: 'utf8', timeout: 30_000 });
  it('a projector without audio generation, a missing backbone: the server stops naming the flag; a bad spec exits 2', T, () => {
    let r = serve(`${NAME}=${BACKBONE},mmproj=${path.join(REPO_ROOT, 'build/mmproj-audio.gguf')}`);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /--speech-model: 'pocket': the projector .*mmproj-audio\.gguf does not generate audio/);
    r = serve(`${NAME}=${path.join(tmp, 'none.gguf')},mmproj=${path.join(REPO_ROOT, 'build/mmproj-pockettts.gguf')}`);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /--speech-model: .*cannot load the backbone/);
    r = serve(`${NAME}=${path.join(tmp, 'lonely.gguf')}`);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /--speech-model: no projector/);
    r = serve(`${NAME}=${BACKBONE},rate=2`);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--speech-model: .*unknown option 'rate'/);
    r = serve(`demo=${BACKBONE}`);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /--speech-model: 'demo' is already a --model's name/);
  });
});
