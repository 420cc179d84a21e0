// Speech output (issue 13), as the guide's "Geração de fala" sends it: the
// TTS model name with response_modalities ["AUDIO"] and speech_config, the
// embedded espeak-ng engine speaking the input; several speakers; a text
// model's answer spoken after it (["TEXT", "AUDIO"]); streaming in both
// dialects. The audio is checked as the guide plays it: the base64 PCM
// written as a WAV and read back by Debian's sox (rate, channels, length,
// loudness).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer, stopAll, T, collect, assertEnded } from './lib/server.mjs';
import { client3 } from './lib/steps.mjs';

const TTS = 'gemini-2.5-flash-preview-tts';
const MIME = 'audio/L16;codec=pcm;rate=24000';
const GUIDE = {
  model: TTS, input: 'Say the following: WOOHOO This is so much fun!.', response_modalities: ['AUDIO'],
  generation_config: { speech_config: { language: 'en-us', voice: 'kore' } },
};
const DIALOGUE = `TTS the following conversation between Alice and Bob:
Alice: Hi Bob, how are you doing today?
Bob: I'm doing great, thanks for asking! How about you?
Alice: Fantastic! I just learned about the Gemini API.`;
let srv, ai, ai3, tmp;

before(async () => {
  srv = await startServer();
  ai = srv.client();
  ai3 = client3(srv);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-speech-'));
}, { timeout: 60_000 });
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function rmsOf(wavStatText) {
  const m = /RMS\s+amplitude:\s+([0-9.]+)/.exec(wavStatText);
  return m ? Number(m[1]) : 0;
}

/** The guide's wave_file(): 16-bit mono PCM at 24 kHz written as a WAV by
 * sox, then what sox reads of it: rate, channels, seconds, RMS amplitude
 * (its `stat` report goes to stderr). */
function soxReport(pcm, name) {
  const raw = path.join(tmp, `${name}.raw`), wav = path.join(tmp, `${name}.wav`);
  fs.writeFileSync(raw, pcm);
  execFileSync('sox', ['-t', 'raw', '-r', '24000', '-e', 'signed', '-b', '16', '-c', '1', '-L', raw, wav]);
  const r = execFileSync('sh', ['-c', `sox "${wav}" -n stat 2>&1`]).toString();
  return {
    rate: Number(execFileSync('soxi', ['-r', wav]).toString().trim()),
    channels: Number(execFileSync('soxi', ['-c', wav]).toString().trim()),
    seconds: Number(execFileSync('soxi', ['-D', wav]).toString().trim()),
    rms: rmsOf(r),
  };
}

function audioOf(outputs) {
  const a = outputs.filter((o) => o.type === 'audio');
  assert.equal(a.length, 1, JSON.stringify(outputs.map((o) => o.type)));
  return a[0];
}

describe('speech output', () => {
  it("the guide's request: one audio output, 24 kHz 16-bit mono PCM the guide's wave_file plays", T, async () => {
    const it_ = await ai.interactions.create(GUIDE);
    assertEnded(assert, it_);
    assert.equal(it_.status, 'completed');
    assert.deepEqual(it_.outputs.map((o) => o.type), ['audio'], 'the audio alone (outputs[-1] is it)');
    const a = audioOf(it_.outputs);
    assert.equal(a.mime_type, MIME);
    const pcm = Buffer.from(a.data, 'base64');
    assert.equal(pcm.length % 2, 0);
    const s = soxReport(pcm, 'guide');
    assert.equal(s.rate, 24000);
    assert.equal(s.channels, 1);
    assert.ok(s.seconds > 1 && s.seconds < 15, `${s.seconds} s`);
    assert.ok(s.rms > 0.01, `not silent: RMS ${s.rms}`);
    // usage: 25 tokens a second of audio, as Gemini counts speech
    const audioTokens = Math.ceil((pcm.length / 2) * 25 / 24000);
    assert.deepEqual(it_.usage.output_tokens_by_modality, [{ modality: 'audio', tokens: audioTokens }]);
    assert.equal(it_.usage.total_output_tokens, audioTokens);
    // kept: a GET serves the same audio and usage
    const got = await ai.interactions.get(it_.id);
    assert.equal(audioOf(got.outputs).data, a.data);
    assert.deepEqual(got.usage.output_tokens_by_modality, it_.usage.output_tokens_by_modality);
  });

  it('a longer text gives a longer audio; another voice another audio', T, async () => {
    const short = await ai.interactions.create({ ...GUIDE, input: 'Hello there.' });
    const long = await ai.interactions.create({ ...GUIDE, input: 'Hello there. '.repeat(6) + 'This is a longer sentence to speak.' });
    const puck = await ai.interactions.create({ ...GUIDE, input: 'Hello there.',
      generation_config: { speech_config: { voice: 'Puck' } } });
    const sec = (it_) => Buffer.from(audioOf(it_.outputs).data, 'base64').length / 2 / 24000;
    assert.ok(sec(long) > 3 * sec(short), `${sec(long)} vs ${sec(short)}`);
    assert.notEqual(audioOf(puck.outputs).data, audioOf(short.outputs).data);
  });

  it('two speakers (the guide\'s Alice and Bob): one audio of the whole dialogue', T, async () => {
    const it_ = await ai.interactions.create({ model: TTS, input: DIALOGUE, response_modalities: ['AUDIO'],
      generation_config: { speech_config: [
        { voice: 'Zephyr', speaker: 'Alice', language: 'en-US' },
        { voice: 'Puck', speaker: 'Bob', language: 'en-US' }] } });
    assert.equal(it_.status, 'completed');
    const s = soxReport(Buffer.from(audioOf(it_.outputs).data, 'base64'), 'dialogue');
    assert.ok(s.seconds > 4, `${s.seconds} s`);
    assert.ok(s.rms > 0.01);
  });

  it('streaming: content.start audio, its deltas decode alone and add up to the stored audio', T, async () => {
    const events = await collect(await ai.interactions.create({ ...GUIDE, stream: true }));
    const start = events.find((e) => e.event_type === 'content.start' && e.content.type === 'audio');
    assert.ok(start, events.map((e) => e.event_type).join());
    assert.equal(start.content.mime_type, MIME);
    const deltas = events.filter((e) => e.event_type === 'content.delta' && e.index === start.index);
    assert.ok(deltas.length >= 1);
    for (const d of deltas) assert.equal(d.delta.type, 'audio');
    const joined = Buffer.concat(deltas.map((d) => Buffer.from(d.delta.data, 'base64')));
    const id = events.find((e) => e.event_type === 'interaction.start').interaction.id;
    const got = await ai.interactions.get(id);
    assert.deepEqual(joined, Buffer.from(audioOf(got.outputs).data, 'base64'));
    assert.equal(deltas.map((d) => d.delta.data).join(''), audioOf(got.outputs).data, 'the base64 texts join too');
  });

  it('a text model asked for TEXT and AUDIO: its answer, then the answer spoken', T, async () => {
    const it_ = await ai.interactions.create({ model: 'demo', input: 'Tell me something.', response_modalities: ['TEXT', 'AUDIO'],
      generation_config: { temperature: 0, max_output_tokens: 24, speech_config: { voice: 'Charon' } } });
    assert.ok(['completed', 'incomplete'].includes(it_.status));
    const types = it_.outputs.map((o) => o.type);
    if (it_.status === 'completed') {
      assert.deepEqual(types.slice(-2), ['text', 'audio']);
      assert.equal(audioOf(it_.outputs).mime_type, MIME);
      // the answer's tokens as text, its speech as audio, both in the output total
      const by = Object.fromEntries(it_.usage.output_tokens_by_modality.map((e) => [e.modality, e.tokens]));
      assert.ok(by.audio > 0 && by.text > 0, JSON.stringify(it_.usage));
      assert.equal(by.text + by.audio, it_.usage.total_output_tokens);
    }
    const again = await ai.interactions.create({ model: 'demo', input: 'Tell me something.', response_modalities: ['text', 'audio'],
      generation_config: { temperature: 0, max_output_tokens: 24, speech_config: { voice: 'Charon' } } });
    assert.equal(again.outputs.find((o) => o.type === 'text')?.text, it_.outputs.find((o) => o.type === 'text')?.text);
    // the chain goes on: the model's own speech is not read back as its input
    const next = await ai.interactions.create({ model: 'demo', input: 'And then?', previous_interaction_id: it_.id,
      generation_config: { temperature: 0, max_output_tokens: 8 } });
    assert.ok(['completed', 'incomplete'].includes(next.status), JSON.stringify(next));
  });

  it('SDK 3.x (steps): the audio in a model_output step; streamed as step deltas of type audio', T, async () => {
    const it_ = await ai3.interactions.create(GUIDE);
    const out = (it_.steps || []).filter((s) => s.type === 'model_output').flatMap((s) => s.content || []);
    const a = out.find((c) => c.type === 'audio');
    assert.ok(a, JSON.stringify(it_.steps));
    assert.equal(a.mime_type, MIME);
    const events = await collect(await ai3.interactions.create({ ...GUIDE, stream: true }));
    const d = events.filter((e) => e.event_type === 'step.delta' && e.delta.type === 'audio');
    assert.ok(d.length >= 1);
    assert.equal(d.map((x) => x.delta.data).join('').length > 0, true);
  });

  it('bad input: an unknown voice, three speakers — 400s naming the field', T, async () => {
    const bad = async (cfg, re) => {
      const r = await srv.raw('POST', '/v1beta/interactions', { key: 'k',
        body: { ...GUIDE, generation_config: { speech_config: cfg } } });
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, re);
    };
    await bad({ voice: 'Nobody' }, /speech_config.*voice/);
    await bad([{ voice: 'Kore', speaker: 'A' }, { voice: 'Puck', speaker: 'B' }, { voice: 'Leda', speaker: 'C' }],
      /speech_config/);
  });
});
