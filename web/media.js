// media: outputs the page plays or shows. Audio comes as base64 L16 PCM
// (audio/l16; rate=24000; channels=1, big- or little-endian as the mime
// says: Gemini's is little-endian in practice); the browser plays WAV, so
// a RIFF header is put in front of the samples here.
export function b64ToBytes(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function param(mime, name, dflt) {
  const m = new RegExp(`${name}=([0-9]+)`, 'i').exec(mime || '');
  return m ? Number(m[1]) : dflt;
}

/** A WAV Blob from L16 PCM bytes (mime e.g. "audio/l16; rate=24000"). */
export function pcmToWav(pcm, mime) {
  const rate = param(mime, 'rate', 24000);
  const channels = param(mime, 'channels', 1);
  const head = new DataView(new ArrayBuffer(44));
  const str = (o, s) => { for (let i = 0; i < s.length; i++) head.setUint8(o + i, s.charCodeAt(i)); };
  str(0, 'RIFF'); head.setUint32(4, 36 + pcm.length, true); str(8, 'WAVE');
  str(12, 'fmt '); head.setUint32(16, 16, true); head.setUint16(20, 1, true);
  head.setUint16(22, channels, true); head.setUint32(24, rate, true);
  head.setUint32(28, rate * channels * 2, true); head.setUint16(32, channels * 2, true);
  head.setUint16(34, 16, true); str(36, 'data'); head.setUint32(40, pcm.length, true);
  return new Blob([head.buffer, pcm], { type: 'audio/wav' });
}

/** An <img> or <audio> element for a media output {type, data, mime_type, uri}. */
export function mediaElement(o) {
  const mime = o.mime_type || '';
  let src = o.uri && /^https?:/.test(o.uri) ? o.uri : null;
  if (!src && o.data) {
    const bytes = b64ToBytes(o.data);
    const blob = /^audio\/(l16|pcm)/i.test(mime) ? pcmToWav(bytes, mime) : new Blob([bytes], { type: mime });
    src = URL.createObjectURL(blob);
  }
  if (o.type === 'image') {
    const img = document.createElement('img');
    img.alt = 'image output';
    if (src) img.src = src;
    return img;
  }
  const el = document.createElement(o.type === 'video' ? 'video' : 'audio');
  el.controls = true;
  el.setAttribute('aria-label', `${o.type} output`);
  if (src) el.src = src;
  return el;
}
