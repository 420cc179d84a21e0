// The Files API (issue 16, part 3) as the SDKs drive it: @google/genai 1.52.0
// (/v1beta) and 3.3.0 (/v1) files.upload from a Blob and from a path, one
// chunk and several (8 MiB each), get, list to the end of its pages, delete;
// state ACTIVE / FAILED with the reason, sha256Hash, expirationTime; the
// resumable protocol on the wire (start, upload, query, an interrupted chunk
// resumed from x-goog-upload-size-received, cancel); bad input (a mime type
// the API does not take, content that is not what it says, a file over
// --max-file-size, a key over --files-quota, offsets past the bytes
// received, bad commands, tokens and names); isolation between keys (also a
// Files URI in another key's interaction: 404); expiry swept with the
// bytes; and a 200 MB upload through the SDK with the server's resident
// memory flat while it streams to disk.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { GoogleGenAI as GenAI3 } from 'genai3';
import { startServer, stopAll, T, waitStderr } from './lib/server.mjs';

const KEY_A = 'files-key-alpha';
const KEY_B = 'files-key-bravo';
const MiB = 1 << 20;
const LONG = { timeout: 300_000 };
let srv;
let A;
let B;
let tmp;

before(async () => {
  srv = await startServer({ apiKeys: [KEY_A, KEY_B] });
  A = srv.client(KEY_A);
  B = srv.client(KEY_B);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-files-'));
}, { timeout: 90_000 });
after(async () => {
  await stopAll();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201e2b3b8a60000000049454e44ae426082', 'hex');
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const sha256Hash = (b) => Buffer.from(sha(b)).toString('base64');

/** Bytes that look like a PDF: the header, then n - 9 deterministic bytes. */
function pdfBytes(n, seed = 1) {
  const b = Buffer.alloc(n);
  b.write('%PDF-1.7\n');
  let x = seed >>> 0 || 1;
  for (let i = 9; i < n; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b.writeUInt32LE(x, Math.min(i, n - 4));
  }
  return b;
}

function client3(key) {
  return new GenAI3({ apiKey: key, httpOptions: { baseUrl: srv.url } });
}

/** Raw request with the key; body a Buffer/string; returns {status, headers, text, json}. */
async function rawReq(method, p, { key = KEY_A, headers = {}, body } = {}) {
  const res = await fetch(srv.url + p, { method, headers: { 'x-goog-api-key': key, ...headers }, body });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/** The resumable start; returns the upload URL's path + query. */
async function start(size, mime, { key = KEY_A, body = {}, version = 'v1beta' } = {}) {
  const r = await rawReq('POST', `/upload/${version}/files`, {
    key,
    headers: {
      'content-type': 'application/json', 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start',
      'x-goog-upload-header-content-length': String(size), 'x-goog-upload-header-content-type': mime,
    },
    body: JSON.stringify(body),
  });
  return r;
}

const uploadPath = (r) => { const u = new URL(r.headers.get('x-goog-upload-url')); return u.pathname + u.search; };

async function chunk(p, command, offset, bytes, key = KEY_A) {
  return rawReq('POST', p, { key, headers: { 'x-goog-upload-command': command, 'x-goog-upload-offset': String(offset) }, body: bytes });
}

async function query(p, key = KEY_A) {
  for (let i = 0; i < 100; i++) {
    const r = await rawReq('POST', p, { key, headers: { 'x-goog-upload-command': 'query' } });
    if (r.status !== 409) return r; // a writer the server has not closed yet
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('upload stayed busy');
}

function procKiB(pid, field) {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
const rssKiB = (pid) => procKiB(pid, 'VmRSS');

describe('the SDK: upload, get, list, delete', () => {
  it('SDK 1.52.0 uploads a Blob: ACTIVE, sha256Hash, expirationTime 48 h on, uri', T, async () => {
    const f = await A.files.upload({ file: new Blob([PNG], { type: 'image/png' }), config: { displayName: 'dot' } });
    assert.match(f.name, /^files\/[a-z0-9]{12}$/);
    assert.equal(f.state, 'ACTIVE');
    assert.equal(f.mimeType, 'image/png');
    assert.equal(f.displayName, 'dot');
    assert.equal(f.sizeBytes, String(PNG.length));
    assert.equal(f.sha256Hash, sha256Hash(PNG));
    assert.equal(f.source, 'UPLOADED');
    assert.equal(f.uri, `${srv.url}/v1beta/${f.name}`);
    assert.equal(Date.parse(f.expirationTime) - Date.parse(f.createTime), 48 * 3600 * 1000);
    const g = await A.files.get({ name: f.name });
    assert.deepEqual(g, f);
    const bare = await A.files.get({ name: f.name.slice(6) });
    assert.equal(bare.name, f.name);
    await A.files.delete({ name: f.name });
    await assert.rejects(A.files.get({ name: f.name }), (e) => e.status === 404 && /NOT_FOUND/.test(e.message));
  });

  it('SDK 1.52.0 uploads from a path in 8 MiB chunks (20 MiB: three chunks), same bytes', LONG, async () => {
    const p = path.join(tmp, 'twenty.pdf');
    const bytes = pdfBytes(20 * MiB + 123, 7);
    fs.writeFileSync(p, bytes);
    const f = await A.files.upload({ file: p, config: { mimeType: 'application/pdf', name: 'files/twenty-mib' } });
    assert.equal(f.name, 'files/twenty-mib');
    assert.equal(f.state, 'ACTIVE');
    assert.equal(f.sizeBytes, String(bytes.length));
    assert.equal(f.sha256Hash, sha256Hash(bytes));
    // a name is a key's own: taken again is a 400 naming it
    await assert.rejects(A.files.upload({ file: new Blob(['x'], { type: 'text/plain' }), config: { name: 'twenty-mib' } }),
      (e) => e.status === 400 && /files\/twenty-mib already exists/.test(e.message));
    await A.files.delete({ name: f.name });
  });

  it('files.list pages to its end (pageSize 2 over 5 files), newest first', T, async () => {
    const made = [];
    for (let i = 0; i < 5; i++) {
      const f = await A.files.upload({ file: new Blob([`note ${i}\n`], { type: 'text/plain' }) });
      assert.equal(f.state, 'ACTIVE');
      made.push(f.name);
    }
    const pager = await A.files.list({ config: { pageSize: 2 } });
    const seen = [];
    for await (const f of pager) seen.push(f.name);
    assert.deepEqual(seen, [...made].reverse());
    // the wire: the last page has no nextPageToken at all
    let tok;
    let pages = 0;
    do {
      const r = await rawReq('GET', `/v1beta/files?pageSize=2${tok ? `&pageToken=${tok}` : ''}`);
      assert.equal(r.status, 200, r.text);
      pages++;
      tok = r.json.nextPageToken;
      if (tok !== undefined) assert.ok(tok.length > 0);
    } while (tok !== undefined && pages < 10);
    assert.equal(pages, 3);
    for (const n of made) await A.files.delete({ name: n });
    const empty = await rawReq('GET', '/v1beta/files');
    assert.deepEqual(empty.json, {});
  });

  it('SDK 3.3.0 on /v1: upload, get, list, delete', T, async () => {
    const ai = client3(KEY_A);
    const f = await ai.files.upload({ file: new Blob([JPEG], { type: 'image/jpeg' }) });
    assert.equal(f.state, 'ACTIVE');
    assert.equal(f.sha256Hash, sha256Hash(JPEG));
    assert.equal(f.uri, `${srv.url}/v1/${f.name}`);
    await waitStderr(srv, /POST \/upload\/v1\/files/);
    const g = await ai.files.get({ name: f.name });
    assert.equal(g.name, f.name);
    const names = [];
    for await (const x of await ai.files.list({ config: { pageSize: 1 } })) names.push(x.name);
    assert.ok(names.includes(f.name));
    // the same file through SDK 1.52.0 on /v1beta
    assert.equal((await A.files.get({ name: f.name })).sha256Hash, f.sha256Hash);
    await ai.files.delete({ name: f.name });
    await assert.rejects(ai.files.get({ name: f.name }), (e) => e.status === 404 || /404/.test(String(e)));
  });
});

describe('the resumable protocol on the wire', () => {
  it('start, upload, query, finalize; an interrupted chunk resumed from x-goog-upload-size-received', LONG, async () => {
    const bytes = pdfBytes(20 * MiB, 3);
    const s = await start(bytes.length, 'application/pdf');
    assert.equal(s.status, 200, s.text);
    assert.equal(s.headers.get('x-goog-upload-status'), 'active');
    const p = uploadPath(s);
    assert.match(p, /^\/upload\/v1beta\/files\?upload_id=[A-Za-z0-9_-]{32}&upload_protocol=resumable$/);
    const c1 = await chunk(p, 'upload', 0, bytes.subarray(0, 8 * MiB));
    assert.equal(c1.status, 200, c1.text);
    assert.equal(c1.headers.get('x-goog-upload-status'), 'active');
    assert.equal(c1.headers.get('x-goog-upload-size-received'), String(8 * MiB));
    // the second chunk: 3 MiB sent of 8, then the connection dies
    await new Promise((resolve) => {
      const u = new URL(srv.url + p);
      const req = http.request({ host: u.hostname, port: u.port, path: p, method: 'POST', headers: {
        'x-goog-api-key': KEY_A, 'x-goog-upload-command': 'upload', 'x-goog-upload-offset': String(8 * MiB),
        'content-length': String(8 * MiB) } });
      req.on('error', () => resolve());
      req.write(bytes.subarray(8 * MiB, 11 * MiB), () => setTimeout(() => { req.destroy(); resolve(); }, 300));
    });
    let q;
    for (let i = 0; i < 50; i++) { // the server notices the hang-up, then records what arrived
      q = await query(p);
      if (Number(q.headers.get('x-goog-upload-size-received')) > 8 * MiB) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(q.status, 200, q.text);
    assert.equal(q.headers.get('x-goog-upload-status'), 'active');
    const got = Number(q.headers.get('x-goog-upload-size-received'));
    assert.ok(got > 8 * MiB && got <= 11 * MiB, `received ${got}`);
    // a finalize now is refused and says how much arrived
    const early = await rawReq('POST', p, { headers: { 'x-goog-upload-command': 'finalize' } });
    assert.equal(early.status, 400);
    assert.match(early.json.error.message, /finalize after \d+ bytes, but 20971520 were announced/);
    assert.equal(early.headers.get('x-goog-upload-size-received'), String(got));
    // past the bytes received: 400 naming the header and what to do
    const past = await chunk(p, 'upload', got + 5, bytes.subarray(got + 5, got + 10));
    assert.equal(past.status, 400);
    assert.equal(past.json.error.status, 'INVALID_ARGUMENT');
    assert.match(past.json.error.message, /x-goog-upload-offset: \d+ is past the \d+ bytes received; ask with x-goog-upload-command: query/);
    // resume from where it stopped, to the end
    const last = await chunk(p, 'upload, finalize', got, bytes.subarray(got));
    assert.equal(last.status, 200, last.text);
    assert.equal(last.headers.get('x-goog-upload-status'), 'final');
    const f = last.json.file;
    assert.equal(f.state, 'ACTIVE');
    assert.equal(f.sizeBytes, String(bytes.length));
    assert.equal(f.sha256Hash, sha256Hash(bytes));
    // query after the end: final, with the file
    const qf = await query(p);
    assert.equal(qf.headers.get('x-goog-upload-status'), 'final');
    assert.equal(qf.json.file.name, f.name);
    const more = await chunk(p, 'upload', bytes.length, Buffer.from('x'));
    assert.equal(more.status, 400);
    assert.match(more.json.error.message, /already finalized/);
    assert.equal((await rawReq('DELETE', `/v1beta/${f.name}`)).status, 200);
  });

  it('cancel drops the upload; start answers without a body; /v1 works the same', T, async () => {
    const s = await start(10, 'text/plain', { version: 'v1', body: { file: { displayName: 'c' } } });
    assert.equal(s.status, 200, s.text);
    assert.equal(s.text, '');
    const p = uploadPath(s);
    assert.match(p, /^\/upload\/v1\/files\?/);
    const c = await rawReq('POST', p, { headers: { 'x-goog-upload-command': 'cancel' } });
    assert.equal(c.status, 200);
    assert.equal(c.headers.get('x-goog-upload-status'), 'cancelled');
    assert.equal((await query(p)).status, 404);
  });
});

describe('bad input', () => {
  it('a mime type the API does not take: 400 at start, naming it and what is accepted', T, async () => {
    await assert.rejects(A.files.upload({ file: new Blob([Buffer.from('PK\x03\x04')], { type: 'application/zip' }) }),
      (e) => e.status === 400 && /mime type 'application\/zip' is not accepted/.test(e.message));
    const r = await start(4, 'application/octet-stream');
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 400);
    assert.equal(r.json.error.status, 'INVALID_ARGUMENT');
    assert.match(r.json.error.message, /image \(png, jpeg/);
    assert.equal(r.headers.get('x-goog-upload-url'), null);
  });

  it('content that is not what its type says: FAILED with the reason (no decoder would take it)', T, async () => {
    const f = await A.files.upload({ file: new Blob([JPEG], { type: 'image/png' }) });
    assert.equal(f.state, 'FAILED');
    assert.equal(f.error.code, 3);
    assert.match(f.error.message, /the content is not image\/png: it does not start with the PNG signature/);
    assert.equal(f.sha256Hash, sha256Hash(JPEG));
    const t = await A.files.upload({ file: new Blob([Buffer.from([0x61, 0xff, 0x62])], { type: 'text/plain' }) });
    assert.equal(t.state, 'FAILED');
    assert.match(t.error.message, /invalid UTF-8 at byte 1/);
    assert.equal((await A.files.get({ name: t.name })).state, 'FAILED');
  });

  it('the start: malformed body, sizes that disagree, an empty file, a bad name', T, async () => {
    let r = await rawReq('POST', '/upload/v1beta/files', { headers: { 'x-goog-upload-protocol': 'resumable',
      'x-goog-upload-command': 'start', 'x-goog-upload-header-content-type': 'text/plain' }, body: '{"file":' });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /malformed JSON/);
    r = await start(10, 'text/plain', { body: { file: { sizeBytes: '11' } } });
    assert.match(r.json.error.message, /file.sizeBytes \(11\) and x-goog-upload-header-content-length \(10\) differ/);
    r = await start(0, 'text/plain');
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /x-goog-upload-header-content-length: the file is empty/);
    r = await start(3, 'text/plain', { body: { file: { name: 'files/Bad Name' } } });
    assert.match(r.json.error.message, /file.name: 'files\/Bad Name' is not a valid name/);
    r = await start(3, 'text/plain', { body: { file: { mimeType: 'text/plain', colour: 'red' } } });
    assert.match(r.json.error.message, /unknown field 'file.colour'/);
    r = await rawReq('POST', '/upload/v1beta/files', { headers: { 'content-type': 'image/png' }, body: PNG });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /use the resumable protocol/);
    r = await rawReq('POST', '/upload/v1beta/files', { headers: { 'x-goog-upload-protocol': 'resumable',
      'x-goog-upload-command': 'begin' } });
    assert.match(r.json.error.message, /x-goog-upload-command: 'begin' is not one of/);
  });

  it('chunks: no offset, a bad offset, past the announced size, no upload_id, an unknown upload', T, async () => {
    const s = await start(4, 'text/plain');
    const p = uploadPath(s);
    let r = await rawReq('POST', p, { headers: { 'x-goog-upload-command': 'upload' }, body: 'ab' });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /x-goog-upload-offset: required/);
    r = await chunk(p, 'upload', '-1', 'ab');
    assert.match(r.json.error.message, /x-goog-upload-offset: '-1' is not a byte offset/);
    r = await chunk(p, 'upload', 0, 'abcdef');
    assert.match(r.json.error.message, /past the 4 bytes announced in x-goog-upload-header-content-length/);
    r = await chunk('/upload/v1beta/files', 'upload', 0, 'ab');
    assert.match(r.json.error.message, /upload_id: missing/);
    r = await chunk('/upload/v1beta/files?upload_id=nope', 'upload', 0, 'ab');
    assert.equal(r.status, 404);
    assert.equal(r.json.error.status, 'NOT_FOUND');
    r = await chunk(p, 'upload, finalize', 0, 'abcd');
    assert.equal(r.json.file.state, 'ACTIVE');
  });

  it('list and get: a bad pageToken, a bad pageSize, a name no file has', T, async () => {
    let r = await rawReq('GET', '/v1beta/files?pageToken=bogus');
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /pageToken: not a token this server gave/);
    r = await rawReq('GET', '/v1beta/files?pageSize=0');
    assert.match(r.json.error.message, /pageSize: '0' is not a positive integer/);
    r = await rawReq('GET', '/v1beta/files/NOT_A_NAME');
    assert.equal(r.status, 404);
    assert.equal(r.json.error.status, 'NOT_FOUND');
    r = await rawReq('POST', '/v1beta/files/abc');
    assert.equal(r.status, 405);
    r = await rawReq('POST', '/v1beta/files:register', { body: '{"uris":["gs://b/x"]}', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /files:register .* is not served/);
  });
});

describe('isolation between keys', () => {
  it("another key's file is a 404 everywhere: get, delete, list, its upload URL, an interaction's uri", T, async () => {
    const f = await A.files.upload({ file: new Blob([PNG], { type: 'image/png' }) });
    await assert.rejects(B.files.get({ name: f.name }), (e) => e.status === 404);
    await assert.rejects(B.files.delete({ name: f.name }), (e) => e.status === 404);
    const names = [];
    for await (const x of await B.files.list({ config: { pageSize: 10 } })) names.push(x.name);
    assert.ok(!names.includes(f.name));
    const s = await start(4, 'text/plain');
    const p = uploadPath(s);
    assert.equal((await chunk(p, 'upload', 0, 'abcd', KEY_B)).status, 404);
    assert.equal((await query(p, KEY_B)).status, 404);
    assert.equal((await rawReq('POST', p, { key: KEY_B, headers: { 'x-goog-upload-command': 'cancel' } })).status, 404);
    // an interaction naming the file: B gets 404, A the media part's 400
    for (const uri of [f.uri, f.name]) {
      const body = JSON.stringify({ model: 'demo', input: [{ type: 'text', text: 'what is it?' },
        { type: 'image', uri, mime_type: 'image/png' }] });
      const rb = await rawReq('POST', '/v1beta/interactions', { key: KEY_B, headers: { 'content-type': 'application/json' }, body });
      assert.equal(rb.status, 404, rb.text);
      assert.equal(rb.json.error.code, 'not_found');
      assert.match(rb.json.error.message, new RegExp(`input\\[1\\]\\.uri: ${f.name} not found`));
      const ra = await rawReq('POST', '/v1beta/interactions', { key: KEY_A, headers: { 'content-type': 'application/json' }, body });
      assert.equal(ra.status, 400, ra.text);
      assert.equal(ra.json.error.code, 'invalid_request');
      assert.match(ra.json.error.message, /^input\[1\]: model demo does not take image input \(it takes text; serve it with its projector: --mmproj NAME=PATH\)/);
    }
    await A.files.delete({ name: f.name });
  });
});

describe('limits and expiry', () => {
  it('--max-file-size: 413 at start (SDK) and while bytes arrive (no size announced)', T, async () => {
    const s2 = await startServer({ args: ['--max-file-size', '1m', '--files-quota', '2m'] });
    try {
      const ai = s2.client();
      await assert.rejects(ai.files.upload({ file: new Blob([pdfBytes(MiB + 1)], { type: 'application/pdf' }) }),
        (e) => e.status === 413 && /over the limit of 1 MiB a file \(--max-file-size\)/.test(e.message));
      // no size announced: the limit bites as the bytes come
      const st = await fetch(`${s2.url}/upload/v1beta/files`, { method: 'POST', headers: {
        'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start', 'content-type': 'application/json' },
      body: '{"file":{"mimeType":"application/pdf"}}' });
      assert.equal(st.status, 200);
      const p = new URL(st.headers.get('x-goog-upload-url'));
      // a chunk of unknown length (chunked transfer): refused once 1 MiB is passed
      const src = pdfBytes(2 * MiB);
      const body = new ReadableStream({ start(c) { for (let i = 0; i < src.length; i += 64 * 1024) c.enqueue(src.subarray(i, i + 64 * 1024)); c.close(); } });
      const big = await fetch(`${s2.url}${p.pathname}${p.search}`, { method: 'POST', duplex: 'half', headers: {
        'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' }, body });
      assert.equal(big.status, 413);
      assert.match((await big.json()).error.message, /the file's 1\d{6} bytes are over the limit of 1 MiB a file \(--max-file-size\)/);
      const q = await fetch(`${s2.url}${p.pathname}${p.search}`, { method: 'POST', headers: { 'x-goog-upload-command': 'query' } });
      assert.ok(Number(q.headers.get('x-goog-upload-size-received')) <= MiB);
      // the quota: 2 MiB a key; the cancelled upload above holds what it wrote
      await fetch(`${s2.url}${p.pathname}${p.search}`, { method: 'POST', headers: { 'x-goog-upload-command': 'cancel' } });
      const one = await ai.files.upload({ file: new Blob([pdfBytes(MiB)], { type: 'application/pdf' }) });
      const two = await ai.files.upload({ file: new Blob([pdfBytes(MiB)], { type: 'application/pdf' }) });
      assert.equal(one.state, 'ACTIVE');
      await assert.rejects(ai.files.upload({ file: new Blob([pdfBytes(MiB)], { type: 'application/pdf' }) }),
        (e) => e.status === 413 && /storage quota exceeded/.test(e.message) && /--files-quota/.test(e.message));
      await ai.files.delete({ name: two.name });
      const three = await ai.files.upload({ file: new Blob([pdfBytes(MiB)], { type: 'application/pdf' }) });
      assert.equal(three.state, 'ACTIVE');
      assert.match(s2.stderr(), /files: .*at most 1m a file, 2m a key/);
    } finally {
      await s2.stop();
    }
  });

  it('--files-ttl: an expired file is gone (404), and the sweep removes its bytes', T, async () => {
    const s2 = await startServer({ args: ['--files-ttl', '3s'] });
    try {
      const ai = s2.client();
      const f = await ai.files.upload({ file: new Blob([PNG], { type: 'image/png' }) });
      assert.equal(Date.parse(f.expirationTime) - Date.parse(f.createTime), 3000);
      assert.equal(fs.readdirSync(path.join(s2.dataDir, 'files')).length, 1);
      await new Promise((res) => setTimeout(res, 3500));
      await assert.rejects(ai.files.get({ name: f.name }), (e) => e.status === 404);
      for (let i = 0; i < 40 && fs.readdirSync(path.join(s2.dataDir, 'files')).length; i++)
        await new Promise((res) => setTimeout(res, 100));
      assert.equal(fs.readdirSync(path.join(s2.dataDir, 'files')).length, 0);
      await waitStderr(s2, /files: deleted 1 expired file/);
    } finally {
      await s2.stop();
    }
  });

  it('200 MB through the SDK: streamed to disk, the server resident memory stays flat', LONG, async () => {
    const n = 200 * 1000 * 1000;
    const p = path.join(tmp, 'big.pdf');
    const hash = crypto.createHash('sha256');
    const fd = fs.openSync(p, 'w');
    for (let off = 0, seed = 11; off < n; off += 8 * MiB, seed++) {
      const part = pdfBytes(Math.min(8 * MiB, n - off), seed);
      if (off > 0) part.write('more....\n'); // only the first piece starts %PDF-
      fs.writeSync(fd, part);
      hash.update(part);
    }
    fs.closeSync(fd);
    const digest = hash.digest('hex');
    const pid = srv.proc.pid;
    const before = rssKiB(pid);
    // The kernel's own high-water mark, reset now ("5" to clear_refs), sees
    // every peak; the 25 ms samples show the curve.
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    let peak = before;
    let samples = 0;
    const timer = setInterval(() => { peak = Math.max(peak, rssKiB(pid)); samples++; }, 25);
    const t0 = Date.now();
    let f;
    try {
      f = await A.files.upload({ file: p, config: { mimeType: 'application/pdf' } });
    } finally {
      clearInterval(timer);
    }
    const secs = (Date.now() - t0) / 1000;
    const after = rssKiB(pid);
    const hwm = procKiB(pid, 'VmHWM');
    peak = Math.max(peak, hwm);
    console.log(`# 200 MB upload: ${secs.toFixed(1)} s; server VmRSS before ${(before / 1024).toFixed(1)} MiB, ` +
      `peak ${(peak / 1024).toFixed(1)} MiB (VmHWM ${(hwm / 1024).toFixed(1)}, ${samples} samples), ` +
      `after ${(after / 1024).toFixed(1)} MiB`);
    assert.ok(samples > 10, `only ${samples} samples`);
    assert.equal(f.state, 'ACTIVE');
    assert.equal(f.sizeBytes, String(n));
    assert.equal(Buffer.from(f.sha256Hash, 'base64').toString(), digest);
    assert.ok(peak - before < 50 * 1024, `server RSS grew by ${((peak - before) / 1024).toFixed(1)} MiB`);
    const blob = path.join(srv.dataDir, 'files');
    assert.ok(fs.readdirSync(blob).some((b) => fs.statSync(path.join(blob, b)).size === n));
    await A.files.delete({ name: f.name });
    fs.rmSync(p);
  });
});
