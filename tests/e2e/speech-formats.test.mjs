// Speech in the audio format a client asks for (SDK 3.x's
// `response_format: {type: 'audio', mime_type, sample_rate, bit_rate}`):
// WAV, MP3, Ogg Opus, G.711 and L16 at another rate, encoded by Debian's
// ffmpeg while the speech is made. Each output is read back by ffprobe
// (codec, rate, channels, length); the streamed deltas join to the stored
// audio; the format is echoed and kept; usage counts the speech's seconds
// whatever its encoding. (Bit-exact encoding is tests/unit/test_audiofmt.c's:
// espeak-ng's own pitch flutter carries over from one utterance to the next,
// so the same text twice is not the same PCM.)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer, stopAll, T, collect } from './lib/server.mjs';
import { client3 } from './lib/steps.mjs';

const TTS = 'gemini-2.5-flash-preview-tts';
const INPUT = 'Say the following: WOOHOO This is so much fun!.';
let srv, ai3, tmp;

before(async () => {
  srv = await startServer();
  ai3 = client3(srv);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-speechfmt-'));
}, { timeout: 60_000 });
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function audioOf(it_) {
  const out = (it_.steps || []).filter((s) => s.type === 'model_output').flatMap((s) => s.content || []);
  const a = out.find((c) => c.type === 'audio');
  assert.ok(a, JSON.stringify(it_.steps));
  return a;
}

/** ffprobe's codec, rate, channels and seconds of the bytes (raw formats
 * need their demuxer named). */
function probe(buf, name, demux = []) {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, buf);
  const out = execFileSync('ffprobe', ['-v', 'error', ...demux, '-show_entries',
    'stream=codec_name,sample_rate,channels:format=duration', '-of', 'json', f]).toString();
  const j = JSON.parse(out);
  return { codec: j.streams[0].codec_name, rate: Number(j.streams[0].sample_rate),
    channels: j.streams[0].channels, seconds: Number(j.format.duration) };
}

describe('speech in the audio format asked for (SDK 3.x response_format)', () => {
  let pcmSeconds, pcmTokens;
  before(async () => {
    const it_ = await ai3.interactions.create({ model: TTS, input: INPUT, response_modalities: ['AUDIO'] });
    const a = audioOf(it_);
    pcmSeconds = Buffer.from(a.data, 'base64').length / 2 / 24000;
    pcmTokens = it_.usage.total_output_tokens;
  }, { timeout: 60_000 });

  const cases = [
    ['WAV at 16 kHz', { mime_type: 'audio/wav', sample_rate: 16000 }, 'audio/wav', [], 'pcm_s16le', 16000],
    ['MP3 at 22.05 kHz, 48 kb/s', { mime_type: 'audio/mp3', sample_rate: 22050, bit_rate: 48000 }, 'audio/mp3', [], 'mp3', 22050],
    ['Ogg Opus', { mime_type: 'audio/ogg_opus' }, 'audio/ogg', [], 'opus', 48000],
    ['G.711 A-law (8 kHz)', { mime_type: 'audio/alaw' }, 'audio/alaw', ['-f', 'alaw', '-ar', '8000', '-ac', '1'], 'pcm_alaw', 8000],
    ['G.711 mu-law (8 kHz)', { mime_type: 'audio/mulaw' }, 'audio/mulaw', ['-f', 'mulaw', '-ar', '8000', '-ac', '1'], 'pcm_mulaw', 8000],
    ['L16 at 16 kHz', { mime_type: 'audio/l16', sample_rate: 16000 }, 'audio/L16;codec=pcm;rate=16000',
      ['-f', 's16le', '-ar', '16000', '-ac', '1'], 'pcm_s16le', 16000],
  ];
  for (const [what, fmt, mime, demux, codec, rate] of cases) {
    it(`${what}: ffprobe reads ${codec} at ${rate} Hz, as long as the PCM; echoed and kept`, T, async () => {
      const rf = { type: 'audio', ...fmt };
      const it_ = await ai3.interactions.create({ model: TTS, input: INPUT, response_format: rf });
      assert.equal(it_.status, 'completed');
      const a = audioOf(it_);
      assert.equal(a.mime_type, mime);
      const p = probe(Buffer.from(a.data, 'base64'), `out-${codec}`, demux);
      assert.equal(p.codec, codec);
      assert.equal(p.rate, rate);
      assert.equal(p.channels, 1);
      assert.ok(Math.abs(p.seconds - pcmSeconds) < 0.15, `${p.seconds} s against the PCM's ${pcmSeconds} s`);
      assert.deepEqual(it_.response_format, rf);
      assert.equal(it_.usage.total_output_tokens, pcmTokens); // the speech's seconds, whatever the encoding
      const got = await ai3.interactions.get(it_.id);
      assert.equal(audioOf(got).data, a.data);
      assert.deepEqual(got.response_format, rf);
    });
  }

  it('streamed: the deltas carry the format and join to the stored bytes (a WAV: its header sizes aside)', T, async () => {
    for (const fmt of [{ mime_type: 'audio/mp3' }, { mime_type: 'audio/wav' }]) {
      const events = await collect(await ai3.interactions.create({ model: TTS, input: INPUT,
        response_format: { type: 'audio', ...fmt }, stream: true }));
      const d = events.filter((e) => e.event_type === 'step.delta' && e.delta.type === 'audio');
      assert.ok(d.length >= 1);
      for (const x of d) assert.equal(x.delta.mime_type, fmt.mime_type);
      const joined = Buffer.concat(d.map((x) => Buffer.from(x.delta.data, 'base64')));
      const id = events.find((e) => e.event_type === 'interaction.created')?.interaction?.id;
      const stored = Buffer.from(audioOf(await ai3.interactions.get(id)).data, 'base64');
      assert.equal(joined.length, stored.length);
      if (fmt.mime_type === 'audio/wav') {
        assert.equal(joined.readUInt32LE(4), 0xffffffff); // streamed: the size is not known yet
        assert.equal(stored.readUInt32LE(4), stored.length - 8); // stored: the real one
        assert.ok(joined.subarray(44).equals(stored.subarray(44)));
      } else {
        assert.ok(joined.equals(stored));
      }
    }
  });

  it('a text model: [text, audio] formats give the answer, then it spoken as MP3', T, async () => {
    const rf = [{ type: 'text' }, { type: 'audio', mime_type: 'audio/mp3' }];
    const it_ = await ai3.interactions.create({ model: 'demo', input: 'Tell me something.', response_format: rf,
      generation_config: { temperature: 0, max_output_tokens: 24 } });
    assert.ok(['completed', 'incomplete'].includes(it_.status), JSON.stringify(it_));
    const out = (it_.steps || []).filter((s) => s.type === 'model_output').flatMap((s) => s.content || []);
    assert.ok(out.find((c) => c.type === 'text'), JSON.stringify(it_.steps));
    const a = out.find((c) => c.type === 'audio');
    if (a) { // a random-weight answer may have nothing to say aloud
      assert.equal(a.mime_type, 'audio/mp3');
      assert.equal(probe(Buffer.from(a.data, 'base64'), 'text-model.mp3').codec, 'mp3');
    }
    assert.deepEqual(it_.response_format, rf);
  });
});
