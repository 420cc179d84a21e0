// File search stores (issue 12) as SDK 1.52.0 drives them: fileSearchStores
// create / get / list (pages) / delete (force), uploadToFileSearchStore
// (the resumable protocol, from a Blob and from a path) of text, Markdown,
// HTML and a PDF typeset by groff, importFile from a Files API file,
// operations polled to done, documents list / get / delete (force), counts
// and sizes; a format that cannot be indexed is a 400 at importFile, bytes
// that cannot be read end FAILED with the reason;
// chunkingConfig checked; isolation between keys (404s); kill -9 while a
// document is ingested leaves it STATE_FAILED (its operation done with the
// error) after the restart; a restart keeps everything and fails nothing
// that was done. Also run on PostgreSQL (make e2e-pg).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, stopAll, raw, T } from './lib/server.mjs';

const KEY_A = 'fsearch-key-alpha';
const KEY_B = 'fsearch-key-bravo';
let srv;
let A;
let B;
let tmp;
let dataDir;

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-fsearch-data-'));
  srv = await startServer({ apiKeys: [KEY_A, KEY_B], dataDir });
  A = srv.client(KEY_A);
  B = srv.client(KEY_B);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'interactd-fsearch-'));
}, { timeout: 90_000 });
after(async () => {
  await stopAll();
  for (const d of [tmp, dataDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

const blob = (text, type) => new Blob([text], { type });

/** Polls an operation to done through the SDK (operations.get). */
async function done(ai, op) {
  for (let i = 0; i < 100 && !op.done; i++) {
    await new Promise((r) => setTimeout(r, 50));
    op = await ai.operations.get({ operation: op });
  }
  assert.equal(op.done, true, 'the operation ends');
  return op;
}

async function upload(ai, store, file, config) {
  const op = await ai.fileSearchStores.uploadToFileSearchStore({ fileSearchStoreName: store, file, config });
  assert.match(op.name, /^fileSearchStores\/[a-z0-9-]+\/upload\/operations\/[a-z0-9-]+$/);
  return done(ai, op);
}

async function all(pager) {
  const out = [];
  for await (const x of pager) out.push(x);
  return out;
}

describe('file search stores', () => {
  let store;

  it('create, get: counts and sizes as strings, a display name kept', T, async () => {
    store = await A.fileSearchStores.create({ config: { displayName: 'Library' } });
    assert.match(store.name, /^fileSearchStores\/[a-z0-9]+$/);
    assert.equal(store.displayName, 'Library');
    assert.equal(store.activeDocumentsCount, '0');
    assert.equal(store.sizeBytes, '0');
    assert.match(store.createTime, /^\d{4}-\d\d-\d\dT/);
    const got = await A.fileSearchStores.get({ name: store.name });
    assert.deepEqual(got, store);
  });

  it('uploadToFileSearchStore: text, Markdown, HTML (Blob) and a PDF (path) end ACTIVE', T, async () => {
    const t = await upload(A, store.name, blob('The quick brown fox jumps over the lazy dog. Zanzibar spices.', 'text/plain'),
      { displayName: 'fox.txt', customMetadata: [{ key: 'author', stringValue: 'Robert Graves' }, { key: 'year', numericValue: 1934 }] });
    assert.equal(t.error, undefined);
    assert.match(t.response.documentName, new RegExp(`^${store.name}/documents/[a-z0-9]+$`));
    assert.equal(t.response.parent, store.name);
    await upload(A, store.name, blob('# Heading\n\nMarkdown **walrus** text about glaciers.', 'text/markdown'), { displayName: 'walrus.md' });
    await upload(A, store.name, blob('<html><head><style>p{}</style><script>var hidden=1</script></head><body><p>Hypertext about <b>porcupines</b>.</p></body></html>', 'text/html'), { displayName: 'porcupine.html' });
    const ms = path.join(tmp, 'doc.ms');
    fs.writeFileSync(ms, '.PP\nA portable document about narwhals and their tusks.\n');
    const pdf = path.join(tmp, 'narwhal.pdf');
    fs.writeFileSync(pdf, execFileSync('groff', ['-ms', '-Tpdf', ms]));
    const p = await upload(A, store.name, pdf, { mimeType: 'application/pdf' });
    const doc = await A.fileSearchStores.documents.get({ name: p.response.documentName });
    assert.equal(doc.state, 'STATE_ACTIVE');
    assert.equal(doc.mimeType, 'application/pdf');
    assert.equal(doc.sizeBytes, String(fs.statSync(pdf).size));
    const s = await A.fileSearchStores.get({ name: store.name });
    assert.equal(s.activeDocumentsCount, '4');
    assert.ok(Number(s.sizeBytes) > fs.statSync(pdf).size);
    // the upload's bytes do not linger as a Files API file
    assert.deepEqual(await all(await A.files.list()), []);
  });

  it('documents.list / get: metadata, names, state', T, async () => {
    const docs = await all(await A.fileSearchStores.documents.list({ parent: store.name }));
    assert.equal(docs.length, 4);
    const fox = docs.find((d) => d.displayName === 'fox.txt');
    assert.equal(fox.state, 'STATE_ACTIVE');
    assert.equal(fox.mimeType, 'text/plain');
    assert.deepEqual(fox.customMetadata, [{ key: 'author', stringValue: 'Robert Graves' }, { key: 'year', numericValue: 1934 }]);
    const page = await A.fileSearchStores.documents.list({ parent: store.name, config: { pageSize: 3 } });
    assert.equal(page.page.length, 3);
    assert.equal(page.hasNextPage(), true);
    const rest = await page.nextPage();
    assert.equal(rest.length, 1);
    assert.equal(page.hasNextPage(), false);
  });

  it('importFile from a Files API file; the file stays', T, async () => {
    const f = await A.files.upload({ file: blob('Imported words about the axolotl.', 'text/plain'), config: { displayName: 'axolotl.txt' } });
    let op = await A.fileSearchStores.importFile({ fileSearchStoreName: store.name, fileName: f.name,
      config: { customMetadata: [{ key: 'genre', stringValue: 'fiction' }] } });
    assert.match(op.name, /^fileSearchStores\/[a-z0-9]+\/operations\/[a-z0-9]+$/);
    op = await done(A, op);
    const doc = await A.fileSearchStores.documents.get({ name: op.response.documentName });
    assert.equal(doc.displayName, 'axolotl.txt');
    assert.equal(doc.state, 'STATE_ACTIVE');
    assert.equal((await A.files.get({ name: f.name })).state, 'ACTIVE');
    await assert.rejects(A.fileSearchStores.importFile({ fileSearchStoreName: store.name, fileName: 'files/nosuch' }),
      (e) => e.status === 404 && /files\/nosuch/.test(e.message));
  });

  it('a format that cannot be indexed: importFile is a 400 naming fileName (as Google); bytes that cannot be read: the operation ends with an error, the document FAILED', T, async () => {
    const f = await A.files.upload({ file: new Blob([Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201e2b3b8a60000000049454e44ae426082', 'hex')], { type: 'image/png' }) });
    await assert.rejects(A.fileSearchStores.importFile({ fileSearchStoreName: store.name, fileName: f.name }),
      (e) => e.status === 400 && /fileName: files\/.*image\/png.*text\/plain/.test(e.message));
    const op = await upload(A, store.name, new Blob([Buffer.from([0x61, 0xff, 0xfe])], { type: 'text/plain' }));
    assert.equal(op.response, undefined);
    assert.match(op.error.message, /UTF-8/);
    const s = await A.fileSearchStores.get({ name: store.name });
    assert.equal(s.failedDocumentsCount, '1');
    assert.equal(s.activeDocumentsCount, '5');
  });

  it('bad input: chunkingConfig out of range, unknown fields, a missing store', T, async () => {
    await assert.rejects(upload(A, store.name, blob('x', 'text/plain'),
      { chunkingConfig: { whiteSpaceConfig: { maxTokensPerChunk: 10, maxOverlapTokens: 10 } } }),
      (e) => e.status === 400 && /maxOverlapTokens/.test(e.message));
    // more than half the chunk: a chunk per word or so, refused (review M1)
    await assert.rejects(upload(A, store.name, blob('x', 'text/plain'),
      { chunkingConfig: { whiteSpaceConfig: { maxTokensPerChunk: 10, maxOverlapTokens: 6 } } }),
      (e) => e.status === 400 && /chunkingConfig\.whiteSpaceConfig\.maxOverlapTokens: 6/.test(e.message));
    await assert.rejects(A.fileSearchStores.get({ name: 'fileSearchStores/nosuchstore' }),
      (e) => e.status === 404 && /fileSearchStores\/nosuchstore not found/.test(e.message));
    const r = await srv.raw('POST', '/v1beta/fileSearchStores', { key: KEY_A, body: { displayName: 'x', colour: 1 } });
    assert.equal(r.status, 400);
    assert.match(r.text, /colour: unknown field/);
    // more than a document may have (100 MB, as Google's): refused at the start, before a byte (review M2)
    const big = await srv.raw('POST', `/upload/v1beta/${store.name}:uploadToFileSearchStore`, {
      key: KEY_A, body: {},
      headers: { 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start',
        'x-goog-upload-header-content-length': String(100 * 1024 * 1024 + 1),
        'x-goog-upload-header-content-type': 'text/plain' } });
    assert.equal(big.status, 400);
    assert.match(big.json.error.message, /^x-goog-upload-header-content-length: 104857601 bytes/);
    // customMetadata's values are bounded, the error naming the entry (review S3)
    await assert.rejects(upload(A, store.name, blob('x', 'text/plain'),
      { customMetadata: [{ key: 'k', stringValue: 'v'.repeat(1025) }] }),
      (e) => e.status === 400 && /customMetadata\[0\]\.stringValue: 1025 bytes/.test(e.message));
  });

  it('chunkingConfig in range is taken (the chunks it makes: fsearch-tool.test.mjs)', T, async () => {
    const words = Array.from({ length: 50 }, (_, i) => `w${i}`).join(' ');
    const op = await upload(A, store.name, blob(words, 'text/plain'),
      { displayName: 'words', chunkingConfig: { whiteSpaceConfig: { maxTokensPerChunk: 10, maxOverlapTokens: 2 } } });
    assert.equal(op.error, undefined);
  });

  it('another key: every call is a 404, its list is empty', T, async () => {
    await assert.rejects(B.fileSearchStores.get({ name: store.name }), (e) => e.status === 404);
    await assert.rejects(B.fileSearchStores.documents.list({ parent: store.name }), (e) => e.status === 404);
    await assert.rejects(B.fileSearchStores.delete({ name: store.name, config: { force: true } }), (e) => e.status === 404);
    await assert.rejects(B.fileSearchStores.uploadToFileSearchStore({ fileSearchStoreName: store.name, file: blob('x', 'text/plain') }),
      (e) => /404|not found/.test(String(e.status ?? e.message)));
    const docs = await all(await A.fileSearchStores.documents.list({ parent: store.name }));
    await assert.rejects(B.fileSearchStores.documents.get({ name: docs[0].name }), (e) => e.status === 404);
    assert.deepEqual(await all(await B.fileSearchStores.list()), []);
  });

  it('list: pages to the end, newest first', T, async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await A.fileSearchStores.create({ config: { displayName: `s${i}` } })).name);
    const pager = await A.fileSearchStores.list({ config: { pageSize: 2 } });
    const names = (await all(pager)).map((s) => s.name);
    assert.deepEqual(names, [...made.reverse(), store.name]);
    for (const n of made) await A.fileSearchStores.delete({ name: n });
  });

  it('documents.delete needs force once ingested; delete of a store needs force with documents', T, async () => {
    const docs = await all(await A.fileSearchStores.documents.list({ parent: store.name }));
    const d = docs.find((x) => x.displayName === 'walrus.md');
    await assert.rejects(A.fileSearchStores.documents.delete({ name: d.name }), (e) => e.status === 400 && /force/.test(e.message));
    await A.fileSearchStores.documents.delete({ name: d.name, config: { force: true } });
    await assert.rejects(A.fileSearchStores.documents.get({ name: d.name }), (e) => e.status === 404);
    const tmpStore = await A.fileSearchStores.create({ config: {} });
    await upload(A, tmpStore.name, blob('to be deleted', 'text/plain'));
    await assert.rejects(A.fileSearchStores.delete({ name: tmpStore.name }), (e) => e.status === 400 && /force/.test(e.message));
    await A.fileSearchStores.delete({ name: tmpStore.name, config: { force: true } });
    await assert.rejects(A.fileSearchStores.get({ name: tmpStore.name }), (e) => e.status === 404);
  });

  it('kill -9 mid-ingestion: after the restart the document is FAILED and its operation done with the error', { timeout: 240_000 }, async () => {
    const big = await A.fileSearchStores.create({ config: { displayName: 'big' } });
    // ~24 MB of words: extracting and chunking it outlasts the polls below
    const words = Array.from({ length: 4000 }, (_, i) => `word${i}`).join(' ') + '\n';
    const text = words.repeat(Math.ceil(24e6 / words.length));
    const up = A.fileSearchStores.uploadToFileSearchStore({ fileSearchStoreName: big.name,
      file: new Blob([text], { type: 'text/plain' }), config: { displayName: 'big.txt' } }).catch((e) => e);
    let pending;
    for (let i = 0; i < 2000 && !pending; i++) {
      const page = await A.fileSearchStores.documents.list({ parent: big.name });
      pending = page.page.find((d) => d.state === 'STATE_PENDING');
      if (!pending) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(pending, 'the document is seen PENDING while it is ingested');
    const info = await srv.kill9();
    assert.equal(info.signal, 'SIGKILL');
    await up; // the upload's request fails with the server gone
    srv = await srv.restart();
    A = srv.client(KEY_A);
    const doc = await A.fileSearchStores.documents.get({ name: pending.name });
    assert.equal(doc.state, 'STATE_FAILED');
    const id = pending.name.split('/').pop();
    const { UploadToFileSearchStoreOperation } = await import('@google/genai');
    const op = await A.operations.get({ operation: Object.assign(new UploadToFileSearchStoreOperation(),
      { name: `${big.name}/upload/operations/${id}` }) });
    assert.equal(op.done, true);
    assert.match(op.error.message, /stopped while this document was being ingested/);
    assert.equal((await A.fileSearchStores.get({ name: big.name })).failedDocumentsCount, '1');
    await A.fileSearchStores.delete({ name: big.name, config: { force: true } });
  });

  it('a restart keeps stores, documents and operations', { timeout: 120_000 }, async () => {
    const before = await all(await A.fileSearchStores.documents.list({ parent: store.name }));
    await stopAll();
    srv = await startServer({ apiKeys: [KEY_A, KEY_B], dataDir });
    A = srv.client(KEY_A);
    const s = await A.fileSearchStores.get({ name: store.name });
    assert.equal(s.displayName, 'Library');
    const after = await all(await A.fileSearchStores.documents.list({ parent: store.name }));
    assert.deepEqual(after, before);
    const id = before[0].name.split('/').pop();
    const op = await A.operations.get({ operation: Object.assign(new (await import('@google/genai')).ImportFileOperation(), { name: `${store.name}/operations/${id}` }) });
    assert.equal(op.done, true);
  });
});
